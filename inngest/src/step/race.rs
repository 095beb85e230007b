//! `step.race`: the first of several branches to finish wins; their new steps are reported
//! with `opts.parallelMode = "race"`, so Inngest calls back after each one finishes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures::future::MaybeDone;

use super::Step;

/// The winner of a two-branch race.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first branch won.
    Left(A),
    /// The second branch won.
    Right(B),
}

impl Step {
    /// Races two branches of steps; the one whose steps finished first wins, the same on
    /// every replay (memos are compared by the order Inngest recorded them).
    ///
    /// ```no_run
    /// # use inngest::step::Either;
    /// # async fn f(ctx: inngest::Context) -> Result<(), inngest::Error> {
    /// let winner = ctx
    ///     .step
    ///     .race(
    ///         ctx.step.run("fast", || async { Ok(1) }),
    ///         ctx.step.run("slow", || async { Ok("two".to_owned()) }),
    ///     )
    ///     .await;
    /// match winner {
    ///     Either::Left(n) => println!("fast won with {}", n?),
    ///     Either::Right(s) => println!("slow won with {}", s?),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn race<'a, A, B>(&self, a: A, b: B) -> Either<A::Output, B::Output>
    where
        A: Future + Send + 'a,
        B: Future + Send + 'a,
    {
        type Branch<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
        let a: Branch<'a, Either<A::Output, B::Output>> =
            Box::pin(async move { Either::Left(a.await) });
        let b: Branch<'a, Either<A::Output, B::Output>> =
            Box::pin(async move { Either::Right(b.await) });
        self.race_all(vec![a, b]).await.0
    }

    /// Races any number of branches of one type; returns the winner's output and index.
    pub async fn race_all<F: Future>(&self, branches: Vec<F>) -> (F::Output, usize) {
        Race {
            step: self,
            branches: branches
                .into_iter()
                .map(|f| (Box::pin(futures::future::maybe_done(f)), None))
                .collect(),
        }
        .await
    }
}

type Branch<F> = (Pin<Box<MaybeDone<F>>>, Option<usize>);

struct Race<'a, F: Future> {
    step: &'a Step,
    /// Each branch, with the stack position of the latest memo it used once it is done.
    branches: Vec<Branch<F>>,
}

impl<F: Future> Future for Race<'_, F> {
    type Output = (F::Output, usize);

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // Safety-free: every field is Unpin (the branches are boxed).
        let this = self.get_mut();
        for (branch, pos) in this.branches.iter_mut() {
            if pos.is_some() {
                continue;
            }
            this.step.state.lock().enter_race_branch();
            let ready = branch.as_mut().poll(cx).is_ready();
            let claimed = this.step.state.lock().leave_race_branch();
            if ready {
                *pos = Some(claimed.unwrap_or(usize::MAX));
            }
        }
        // The winner: the finished branch whose steps finished earliest in Inngest's record.
        let winner = this
            .branches
            .iter()
            .enumerate()
            .filter_map(|(i, (_, pos))| pos.map(|p| (p, i)))
            .min();
        match winner {
            Some((_, i)) => {
                let output = this.branches[i]
                    .0
                    .as_mut()
                    .take_output()
                    .expect("a finished branch has its output");
                Poll::Ready((output, i))
            }
            None => Poll::Pending,
        }
    }
}
