//! A panic hook that disarms the thread before the panic machinery allocates, and keeps the
//! message of a panic inside a swept body instead of printing it once per iteration.

use std::cell::{Cell, RefCell};
use std::sync::Once;

thread_local! {
    static IN_BODY: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook once per process, chaining to the hook that was there before.
pub(crate) fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_BODY.try_with(Cell::get).unwrap_or(false) {
                return previous(info);
            }
            // Disarm first: the message formatting below and the payload box that the panic
            // runtime allocates after this hook must not be counted or failed.
            crate::alloc::disarm();
            let text = info
                .payload_as_str()
                .map(str::to_string)
                .unwrap_or_else(|| "Box<dyn Any>".to_string());
            let message = match info.location() {
                Some(loc) => format!(
                    "panicked at {}:{}:{}: {text}",
                    loc.file(),
                    loc.line(),
                    loc.column()
                ),
                None => format!("panicked: {text}"),
            };
            let _ = LAST_PANIC.try_with(|p| *p.borrow_mut() = Some(message));
        }));
    });
}

/// Marks this thread as running a swept body.
pub(crate) fn enter_body() {
    LAST_PANIC.with(|p| *p.borrow_mut() = None);
    IN_BODY.with(|b| b.set(true));
}

/// Leaves the body and returns the message of the panic it raised, if any.
pub(crate) fn leave_body() -> Option<String> {
    IN_BODY.with(|b| b.set(false));
    LAST_PANIC.with(|p| p.borrow_mut().take())
}
