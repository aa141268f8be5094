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
