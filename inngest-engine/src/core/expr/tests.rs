//! The dialect, expression by expression, with the results the server's rules give
//! (`pkg/expressions`: `unknown.go`, `exprenv/overloads.go`, and cel-go's standard library).

use serde_json::{json, Value};

use super::Expressions;

fn event() -> Value {
    json!({
        "id": "01H", "name": "app/user.created", "ts": 1_700_000_000_000_u64,
        "data": {
            "user": {"id": "u-1", "email": "Ann@Example.com", "plan": "pro", "tags": ["a", "b"]},
            "count": 2, "ratio": 0.5, "active": true, "nothing": null, "empty": "",
            "name": "Ann", "items": [{"qty": 1}, {"qty": 3}],
            "payload": "{\"k\": \"v\", \"n\": 1}", "b64": "aGVsbG8=",
            "at": "2023-11-14T22:13:20Z", "limit": 10
        }
    })
}

fn incoming() -> Value {
    json!({"name": "app/paid", "data": {"user_id": "u-1", "amount": 30, "count": 2}})
}

#[test]
fn the_servers_dialect_expression_by_expression() {
    let mut x = Expressions {
        now_ms: 1_700_000_000_000,
        ..Expressions::default()
    };
    let (e, a) = (event(), incoming());
    // (expression, holds)
    let table: &[(&str, bool)] = &[
        // Plain CEL.
        ("event.data.user.plan == 'pro'", true),
        ("event.data.user.plan != 'pro'", false),
        (
            "event.name == 'app/user.created' && event.data.active",
            true,
        ),
        ("event.data.count == 2", true),
        ("event.data.count == 2.0", true),
        ("event.data.count > 1 && event.data.count < 3", true),
        ("event.data.ratio < 1", true),
        ("event.data.user.tags.size() == 2", true),
        ("size(event.data.user.tags) == 2", true),
        ("'a' in event.data.user.tags", true),
        ("'c' in event.data.user.tags", false),
        ("has(event.data.user.email)", true),
        ("has(event.data.user.phone)", false),
        ("event.data.items.exists(i, i.qty > 2)", true),
        ("event.data.items.all(i, i.qty > 2)", false),
        ("event.data.items.exists_one(i, i.qty == 1)", true),
        ("event.data.items.map(i, i.qty).size() == 2", true),
        ("event.data.items.filter(i, i.qty > 2).size() == 1", true),
        ("event.data.user.email.contains('@')", true),
        ("event.data.user.email.startsWith('Ann')", true),
        ("event.data.user.email.endsWith('.com')", true),
        ("event.data.user.email.matches('^[A-Za-z]+@')", true),
        ("event.data.name + ' Smith' == 'Ann Smith'", true),
        ("event.data.active ? true : false", true),
        // A missing field is null.
        ("event.data.missing == null", true),
        ("event.data.missing != null", false),
        ("event.data.nothing == null", true),
        ("event.data.missing.deeper == null", true),
        ("event.data.missing == 'x'", false),
        ("event.data.missing != 'x'", true),
        ("event.data.missing < 5", true),
        ("event.data.missing > 5", false),
        ("size(event.data.missing) == 0", true),
        ("event.data.missing.contains('x')", false),
        ("!event.data.missing", false),
        ("async.data.missing == null", true),
        // Loose comparisons and arithmetic across types.
        ("event.data.nothing < 1", true),
        ("event.data.nothing == 0", false),
        ("event.data.count + 1 == '21'", true),
        ("'n' + event.data.count == 'n2'", true),
        ("event.data.missing + 'x' == 'x'", true),
        // Truthiness of && and ||.
        ("event.data.empty || event.data.name == 'Ann'", true),
        ("event.data.missing || event.data.active", true),
        ("event.data.name && event.data.active", true),
        ("event.data.empty && true", false),
        ("event.data.name ? true : false", true),
        ("event.data.empty ? true : false", false),
        // The server's functions.
        (
            "lowercase(event.data.user.email) == 'ann@example.com'",
            true,
        ),
        ("uppercase(event.data.name) == 'ANN'", true),
        ("b64decode(event.data.b64) == 'hello'", true),
        ("json_parse(event.data.payload).k == 'v'", true),
        ("json_parse(event.data.payload).n == 1", true),
        (
            "date(event.data.at) == timestamp('2023-11-14T22:13:20Z')",
            true,
        ),
        ("date(event.data.at) < now()", false),
        ("date(event.data.at) <= now()", true),
        ("now_plus('1h') > now()", true),
        ("now_minus('1d') < now()", true),
        ("date(1700000000) == date(event.data.at)", true),
        // `event` and `async` together, as in waits and cancellations.
        ("event.data.user.id == async.data.user_id", true),
        (
            "async.data.amount >= 30 && event.data.count == async.data.count",
            true,
        ),
        ("event.data.user.id == async.data.missing", false),
        // Not booleans, or errors: they do not hold.
        ("event.data.count", false),
        ("event.data.count * 2 == 4", false),
        ("int('x') == 1", false),
    ];
    assert!(table.len() >= 40);
    for (expression, want) in table {
        assert_eq!(x.holds(expression, &e, Some(&a)), Ok(*want), "{expression}");
    }
}

#[test]
fn keys_and_priorities_are_values() {
    let mut x = Expressions::default();
    let e = event();
    assert_eq!(x.evaluate("event.data.user.id", &e), Ok(json!("u-1")));
    assert_eq!(x.evaluate("event.data.missing", &e), Ok(json!(false)));
    assert_eq!(x.evaluate("event.data.nothing", &e), Ok(Value::Null));
    assert_eq!(
        x.evaluate("event.data.limit - 3", &e),
        Err("no such overload".into())
    );
    assert_eq!(x.evaluate("100 - 3", &e), Ok(json!(97)));
    assert_eq!(
        x.evaluate("event.data.user.id + '-' + event.data.user.plan", &e),
        Ok(json!("u-1-pro"))
    );
}

#[test]
fn what_does_not_compile() {
    let mut x = Expressions::default();
    for bad in [
        "event.data.a ==",
        "evnt.data.a == 1",
        "event.data.a.nope(1)",
        "unknown_fn(event.data.a)",
        "event.data.a == 'x",
    ] {
        assert!(x.check(bad).is_err(), "{bad}");
    }
    for good in [
        "event.data.a == 1",
        "async.data.x == event.data.x",
        "vars.x == 1",
        "event.data.items.exists(i, i.qty > 1)",
    ] {
        assert_eq!(x.check(good), Ok(()), "{good}");
    }
}
