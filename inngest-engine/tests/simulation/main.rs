//! The engine's core on virtual time, against a scripted SDK: the basics, every flow-control
//! option, the server's limits, the event API's checks and the validation at sync.

mod already;
mod basics;
mod events;
mod flow;
mod limits;
mod restore;
mod sdk;
mod validation;
