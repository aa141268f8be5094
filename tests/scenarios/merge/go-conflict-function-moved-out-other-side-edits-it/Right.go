package binding

import (
	"net/http"
	"reflect"
)

type formBinding struct{}

func (formBinding) Bind(req *http.Request, obj any) error {
	if err := req.ParseForm(); err != nil {
		return err
	}
	return mapForm(obj, req.Form)
}

func mapForm(ptr any, form map[string][]string) error {
	typ := reflect.TypeOf(ptr).Elem()
	value := reflect.ValueOf(ptr).Elem()
	for i := 0; i < typ.NumField(); i++ {
		field := typ.Field(i)

		// embedded structs are bound field by field
		if value.Field(i).Kind() == reflect.Struct {
			if err := mapForm(value.Field(i).Addr().Interface(), form); err != nil {
				return err
			}
			continue
		}

		if name := field.Tag.Get("form"); name != "" {
			if err := setField(value.Field(i), form[name]); err != nil {
				return err
			}
		}
	}
	return nil
}
