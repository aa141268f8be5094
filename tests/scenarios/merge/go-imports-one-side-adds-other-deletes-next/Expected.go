package web

import (
	"encoding/xml"
	"path"
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

func joinPaths(absolute, relative string) string {
	if len(relative) == 0 {
		return absolute
	}
	return path.Join(absolute, relative)
}

func mustBind(name string, value any) {
	if reflect.ValueOf(value).Kind() != reflect.Ptr {
		panic(name + ": want a pointer")
	}
}
