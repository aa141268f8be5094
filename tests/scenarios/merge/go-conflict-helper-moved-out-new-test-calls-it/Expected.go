package web

import (
	"testing"
)

func TestRequestSetValue(t *testing.T) {
	r, _ := CreateTestRequest()
	r.Set("foo", "bar")

	value, ok := r.Get("foo")
	assertEqual(t, value, "bar")
	assertTrue(t, ok)
}

// crdtspace dangling-reference: left deleted createTestRequest, but right's new code in TestRequestSetCookie uses it.
func TestRequestSetCookie(t *testing.T) {
	r, _ := createTestRequest()
	r.SetCookie("user", "web", 1, "/", "localhost", true, true)
	assertEqual(t, r.Writer.Header().Get("Set-Cookie"), "user=web; Path=/; Domain=localhost; Max-Age=1; HttpOnly; Secure")
}
