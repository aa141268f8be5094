package web

import (
	"encoding/xml"
	"reflect"
	"strings"
)

func filterFlags(content string) string {
	for i, char := range content {
		if char == ' ' || char == ';' {
			return content[:i]
		}
	}
	return content
}

func mustBind(name string, value any) {
	if reflect.ValueOf(value).Kind() != reflect.Ptr {
		panic(name + ": want a pointer")
	}
}
