package web

import (
	"encoding/xml"
	"log"
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
		log.Panicf("%s: want a pointer", name)
	}
}
