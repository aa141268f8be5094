package binding

import (
	"net/http"
)

type formBinding struct{}

func (formBinding) Bind(req *http.Request, obj any) error {
	if err := req.ParseForm(); err != nil {
		return err
	}
	return mapForm(obj, req.Form)
}
