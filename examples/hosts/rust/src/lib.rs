//! A small safe wrapper over cace's C ABI (include/cace/cace.h): each handle is owned by one
//! Rust value whose Drop frees it, every call's error becomes a `Result`, and the engine is
//! `Send + Sync` (the C ABI allows calls from any thread). Streams use submit-and-poll, so no
//! Rust code runs on the engine's threads.
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;

mod ffi {
    use super::*;
    pub type Code = i32;
    #[repr(C)]
    pub struct Opaque {
        _private: [u8; 0],
    }
    extern "C" {
        pub fn cace_version_string() -> *const c_char;
        pub fn cace_error_code(error: *const Opaque) -> Code;
        pub fn cace_error_message(error: *const Opaque, length: *mut usize) -> *const c_char;
        pub fn cace_error_free(error: *mut Opaque);
        pub fn cace_free(pointer: *mut c_void);
        pub fn cace_engine_options_create() -> *mut Opaque;
        pub fn cace_engine_options_destroy(options: *mut Opaque);
        pub fn cace_engine_options_set_memory_budget(o: *mut Opaque, bytes: u64, e: *mut *mut Opaque) -> Code;
        pub fn cace_engine_options_set_policy(o: *mut Opaque, n: *const c_char, l: usize, e: *mut *mut Opaque) -> Code;
        pub fn cace_engine_options_set_compute_threads(o: *mut Opaque, t: i32, e: *mut *mut Opaque) -> Code;
        pub fn cace_engine_create(options: *const Opaque, e: *mut *mut Opaque) -> *mut Opaque;
        pub fn cace_engine_destroy(engine: *mut Opaque);
        pub fn cace_model_options_create() -> *mut Opaque;
        pub fn cace_model_options_destroy(options: *mut Opaque);
        pub fn cace_model_options_set_id(o: *mut Opaque, id: *const c_char, l: usize, e: *mut *mut Opaque) -> Code;
        pub fn cace_engine_add_model(engine: *mut Opaque, path: *const c_char, l: usize, o: *const Opaque,
                                     e: *mut *mut Opaque) -> Code;
        pub fn cace_request_create() -> *mut Opaque;
        pub fn cace_request_destroy(request: *mut Opaque);
        pub fn cace_request_set_model(r: *mut Opaque, id: *const c_char, l: usize, e: *mut *mut Opaque) -> Code;
        pub fn cace_request_set_prompt(r: *mut Opaque, t: *const c_char, l: usize, e: *mut *mut Opaque) -> Code;
        pub fn cace_request_set_max_tokens(r: *mut Opaque, n: i32, e: *mut *mut Opaque) -> Code;
        pub fn cace_engine_submit_stream(engine: *mut Opaque, r: *const Opaque, s: *mut *mut Opaque,
                                         e: *mut *mut Opaque) -> Code;
        pub fn cace_engine_cancel(engine: *mut Opaque, id: u64, was_pending: *mut c_int, e: *mut *mut Opaque) -> Code;
        pub fn cace_stream_request_id(stream: *const Opaque) -> u64;
        pub fn cace_stream_next(stream: *mut Opaque, timeout_ms: i64, event: *mut *mut Opaque,
                                e: *mut *mut Opaque) -> Code;
        pub fn cace_stream_destroy(stream: *mut Opaque);
        pub fn cace_event_get_kind(event: *const Opaque) -> i32;
        pub fn cace_event_text(event: *const Opaque, length: *mut usize) -> *const c_char;
        pub fn cace_event_result(event: *const Opaque) -> *const Opaque;
        pub fn cace_event_free(event: *mut Opaque);
        pub fn cace_result_code(result: *const Opaque) -> Code;
        pub fn cace_result_message(result: *const Opaque, length: *mut usize) -> *const c_char;
        pub fn cace_result_completion_tokens(result: *const Opaque) -> i64;
        pub fn cace_engine_prometheus_text(engine: *const Opaque, text: *mut *mut c_char, length: *mut usize,
                                           e: *mut *mut Opaque) -> Code;
    }
}

pub const CANCELLED: i32 = 1;
const EVENT_DONE: i32 = 1;

/// An error from the library: its code (absl's canonical codes) and message.
#[derive(Debug, Clone)]
pub struct Error {
    pub code: i32,
    pub message: String,
}

unsafe fn text(data: *const c_char, length: usize) -> String {
    if data.is_null() {
        return String::new();
    }
    String::from_utf8_lossy(std::slice::from_raw_parts(data as *const u8, length)).into_owned()
}

/// Turns a call's code and error out-parameter into a Result, freeing the error.
fn check(code: ffi::Code, error: *mut ffi::Opaque) -> Result<(), Error> {
    if code == 0 {
        return Ok(());
    }
    unsafe {
        let mut length = 0usize;
        let message = text(ffi::cace_error_message(error, &mut length), length);
        let code = if error.is_null() { code } else { ffi::cace_error_code(error) };
        ffi::cace_error_free(error);
        Err(Error { code, message })
    }
}

pub fn version() -> String {
    unsafe { CStr::from_ptr(ffi::cace_version_string()).to_string_lossy().into_owned() }
}

pub struct Engine {
    handle: *mut ffi::Opaque,
}

// The C ABI allows every engine call from any thread at once.
unsafe impl Send for Engine {}
unsafe impl Sync for Engine {}

impl Engine {
    pub fn new(memory_budget_bytes: u64, policy: &str) -> Result<Engine, Error> {
        unsafe {
            let options = ffi::cace_engine_options_create();
            let mut error = ptr::null_mut();
            let set = check(ffi::cace_engine_options_set_memory_budget(options, memory_budget_bytes, &mut error), error)
                .and_then(|_| {
                    check(ffi::cace_engine_options_set_policy(options, policy.as_ptr() as *const c_char,
                                                              policy.len(), &mut error), error)
                })
                .and_then(|_| check(ffi::cace_engine_options_set_compute_threads(options, 1, &mut error), error));
            if let Err(e) = set {
                ffi::cace_engine_options_destroy(options);
                return Err(e);
            }
            let handle = ffi::cace_engine_create(options, &mut error);
            ffi::cace_engine_options_destroy(options);
            if handle.is_null() {
                return Err(check(3, error).unwrap_err());
            }
            Ok(Engine { handle })
        }
    }

    pub fn add_model(&self, path: &str, id: &str) -> Result<(), Error> {
        unsafe {
            let options = ffi::cace_model_options_create();
            let mut error = ptr::null_mut();
            let result = check(ffi::cace_model_options_set_id(options, id.as_ptr() as *const c_char, id.len(),
                                                               &mut error), error)
                .and_then(|_| {
                    check(ffi::cace_engine_add_model(self.handle, path.as_ptr() as *const c_char, path.len(), options,
                                                     &mut error), error)
                });
            ffi::cace_model_options_destroy(options);
            result
        }
    }

    /// Submits a text completion whose pieces and result come through the returned Stream.
    pub fn stream(&self, model: &str, prompt: &str, max_tokens: i32) -> Result<Stream<'_>, Error> {
        unsafe {
            let request = ffi::cace_request_create();
            let mut error = ptr::null_mut();
            let mut stream = ptr::null_mut();
            let result = check(ffi::cace_request_set_model(request, model.as_ptr() as *const c_char, model.len(),
                                                           &mut error), error)
                .and_then(|_| {
                    check(ffi::cace_request_set_prompt(request, prompt.as_ptr() as *const c_char, prompt.len(),
                                                       &mut error), error)
                })
                .and_then(|_| check(ffi::cace_request_set_max_tokens(request, max_tokens, &mut error), error))
                .and_then(|_| check(ffi::cace_engine_submit_stream(self.handle, request, &mut stream, &mut error),
                                    error));
            ffi::cace_request_destroy(request);
            result.map(|_| Stream { engine: self, handle: stream })
        }
    }

    /// True when the request had not ended yet.
    pub fn cancel(&self, request_id: u64) -> Result<bool, Error> {
        let mut was_pending: c_int = 0;
        let mut error = ptr::null_mut();
        unsafe { check(ffi::cace_engine_cancel(self.handle, request_id, &mut was_pending, &mut error), error)? };
        Ok(was_pending != 0)
    }

    pub fn prometheus_text(&self) -> Result<String, Error> {
        unsafe {
            let mut data = ptr::null_mut();
            let mut length = 0usize;
            let mut error = ptr::null_mut();
            check(ffi::cace_engine_prometheus_text(self.handle, &mut data, &mut length, &mut error), error)?;
            let out = text(data, length);
            ffi::cace_free(data as *mut c_void);
            Ok(out)
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        unsafe { ffi::cace_engine_destroy(self.handle) }
    }
}

/// What a stream yields: a piece of text, or the end (Ok with the completion tokens, or the error).
pub enum Event {
    Piece(String),
    Done(Result<i64, Error>),
}

/// One submitted request; borrows its engine, so it cannot outlive it. Dropping it cancels the
/// request if it is still running.
pub struct Stream<'a> {
    engine: &'a Engine,
    handle: *mut ffi::Opaque,
}

impl<'a> Stream<'a> {
    pub fn request_id(&self) -> u64 {
        unsafe { ffi::cace_stream_request_id(self.handle) }
    }

    pub fn cancel(&self) -> Result<bool, Error> {
        self.engine.cancel(self.request_id())
    }

    /// The next event, waiting as long as it takes; None after the end.
    pub fn next_event(&mut self) -> Option<Event> {
        unsafe {
            loop {
                let mut event = ptr::null_mut();
                let mut error = ptr::null_mut();
                if check(ffi::cace_stream_next(self.handle, 1000, &mut event, &mut error), error).is_err() {
                    return None;
                }
                if event.is_null() {
                    continue; // timed out: wait again
                }
                let out = if ffi::cace_event_get_kind(event) == EVENT_DONE {
                    let result = ffi::cace_event_result(event);
                    let code = ffi::cace_result_code(result);
                    if code == 0 {
                        Event::Done(Ok(ffi::cace_result_completion_tokens(result)))
                    } else {
                        let mut length = 0usize;
                        let message = text(ffi::cace_result_message(result, &mut length), length);
                        Event::Done(Err(Error { code, message }))
                    }
                } else {
                    let mut length = 0usize;
                    Event::Piece(text(ffi::cace_event_text(event, &mut length), length))
                };
                ffi::cace_event_free(event);
                return Some(out);
            }
        }
    }
}

impl<'a> Drop for Stream<'a> {
    fn drop(&mut self) {
        unsafe { ffi::cace_stream_destroy(self.handle) }
    }
}
