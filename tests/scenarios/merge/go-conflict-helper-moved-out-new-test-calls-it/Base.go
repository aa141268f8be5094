package web

import (
	"net/http/httptest"
	"testing"
)

func createTestRequest() (r *Request, w *httptest.ResponseRecorder) {
	w = httptest.NewRecorder()
	r = newServer().allocateRequest()
	r.reset()
	r.recorder.reset(w)
	return
}

func TestRequestSetValue(t *testing.T) {
	r, _ := createTestRequest()
	r.Set("foo", "bar")

	value, ok := r.Get("foo")
	assertEqual(t, value, "bar")
	assertTrue(t, ok)
}
