// Package cace wraps cace's C ABI (include/cace/cace.h) for Go through cgo. Requests use the
// C ABI's submit-and-poll form: a goroutine waits in cace_stream_next, so no Go code runs on the
// engine's threads and no goroutine needs pinning to a thread.
package cace

/*
#cgo pkg-config: cace
#include <stdlib.h>
#include <cace/cace.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Error is a failed call: its code (absl's canonical codes) and message.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cace %s: %s", C.GoString(C.cace_code_name(C.cace_code(e.Code))), e.Message)
}

// Cancelled is the code of a cancelled request.
const Cancelled = 1

// check turns a code and its error out-parameter into a Go error, freeing the C error.
func check(code C.cace_code, err *C.cace_error) error {
	if code == C.CACE_OK {
		return nil
	}
	var length C.size_t
	data := C.cace_error_message(err, &length) // before length is read: Go leaves that order open
	message := C.GoStringN(data, C.int(length))
	if err != nil {
		code = C.cace_error_code(err)
	}
	C.cace_error_free(err)
	return &Error{Code: int(code), Message: message}
}

// cstring passes a Go string as pointer + length (freed by the caller with C.free).
func cstring(s string) (*C.char, C.size_t) { return C.CString(s), C.size_t(len(s)) }

func Version() string { return C.GoString(C.cace_version_string()) }

// Engine is one cace engine; safe for use by many goroutines at once.
type Engine struct{ handle *C.cace_engine }

func NewEngine(memoryBudgetBytes uint64, policy string) (*Engine, error) {
	options := C.cace_engine_options_create()
	defer C.cace_engine_options_destroy(options)
	var err *C.cace_error
	if e := check(C.cace_engine_options_set_memory_budget(options, C.uint64_t(memoryBudgetBytes), &err), err); e != nil {
		return nil, e
	}
	name, length := cstring(policy)
	defer C.free(unsafe.Pointer(name))
	if e := check(C.cace_engine_options_set_policy(options, name, length, &err), err); e != nil {
		return nil, e
	}
	if e := check(C.cace_engine_options_set_compute_threads(options, 1, &err), err); e != nil {
		return nil, e
	}
	handle := C.cace_engine_create(options, &err)
	if handle == nil {
		return nil, check(C.CACE_INVALID_ARGUMENT, err)
	}
	engine := &Engine{handle: handle}
	runtime.SetFinalizer(engine, (*Engine).Close)
	return engine, nil
}

// Close ends pending requests and frees the engine; later calls fail.
func (e *Engine) Close() {
	if e.handle != nil {
		C.cace_engine_destroy(e.handle)
		e.handle = nil
	}
}

func (e *Engine) AddModel(path, id string) error {
	options := C.cace_model_options_create()
	defer C.cace_model_options_destroy(options)
	var err *C.cace_error
	cid, idLength := cstring(id)
	defer C.free(unsafe.Pointer(cid))
	if e := check(C.cace_model_options_set_id(options, cid, idLength, &err), err); e != nil {
		return e
	}
	cpath, pathLength := cstring(path)
	defer C.free(unsafe.Pointer(cpath))
	return check(C.cace_engine_add_model(e.handle, cpath, pathLength, options, &err), err)
}

// Stream is one submitted request.
type Stream struct {
	engine *Engine
	handle *C.cace_stream
}

// Result is how a request ended.
type Result struct {
	CompletionTokens int64
	Err              error
}

// Submit queues a text completion; read it with Next.
func (e *Engine) Submit(model, prompt string, maxTokens int) (*Stream, error) {
	request := C.cace_request_create()
	defer C.cace_request_destroy(request)
	var err *C.cace_error
	cmodel, modelLength := cstring(model)
	defer C.free(unsafe.Pointer(cmodel))
	cprompt, promptLength := cstring(prompt)
	defer C.free(unsafe.Pointer(cprompt))
	if e := check(C.cace_request_set_model(request, cmodel, modelLength, &err), err); e != nil {
		return nil, e
	}
	if e := check(C.cace_request_set_prompt(request, cprompt, promptLength, &err), err); e != nil {
		return nil, e
	}
	if e := check(C.cace_request_set_max_tokens(request, C.int32_t(maxTokens), &err), err); e != nil {
		return nil, e
	}
	var stream *C.cace_stream
	if e := check(C.cace_engine_submit_stream(e.handle, request, &stream, &err), err); e != nil {
		return nil, e
	}
	return &Stream{engine: e, handle: stream}, nil
}

func (s *Stream) ID() uint64 { return uint64(C.cace_stream_request_id(s.handle)) }

// Cancel reports whether the request was still pending.
func (s *Stream) Cancel() (bool, error) {
	var pending C.int
	var err *C.cace_error
	e := check(C.cace_engine_cancel(s.engine.handle, C.uint64_t(s.ID()), &pending, &err), err)
	return pending != 0, e
}

// Next returns the next piece of text, or done with the result.
func (s *Stream) Next() (piece string, done bool, result Result) {
	for {
		var event *C.cace_event
		var err *C.cace_error
		if e := check(C.cace_stream_next(s.handle, 1000, &event, &err), err); e != nil {
			return "", true, Result{Err: e}
		}
		if event == nil {
			continue // timed out: wait again
		}
		defer C.cace_event_free(event)
		if C.cace_event_get_kind(event) == C.CACE_EVENT_DONE {
			r := C.cace_event_result(event)
			if code := C.cace_result_code(r); code != C.CACE_OK {
				var length C.size_t
				data := C.cace_result_message(r, &length)
				message := C.GoStringN(data, C.int(length))
				return "", true, Result{Err: &Error{Code: int(code), Message: message}}
			}
			return "", true, Result{CompletionTokens: int64(C.cace_result_completion_tokens(r))}
		}
		var length C.size_t
		data := C.cace_event_text(event, &length)
		return C.GoStringN(data, C.int(length)), false, Result{}
	}
}

// Close frees the stream, cancelling the request if it still runs.
func (s *Stream) Close() { C.cace_stream_destroy(s.handle) }

// PrometheusText is the engine's metrics in Prometheus' text format.
func (e *Engine) PrometheusText() (string, error) {
	var text *C.char
	var length C.size_t
	var err *C.cace_error
	if e := check(C.cace_engine_prometheus_text(e.handle, &text, &length, &err), err); e != nil {
		return "", e
	}
	defer C.cace_free(unsafe.Pointer(text))
	return C.GoStringN(text, C.int(length)), nil
}

// IsCancelled reports whether err is a cancelled request's.
func IsCancelled(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == Cancelled
}
