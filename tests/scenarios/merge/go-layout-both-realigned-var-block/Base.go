package binding

var (
	JSON = jsonBinding{}
	XML  = xmlBinding{}
	Form = formBinding{}
)

func Default(method string) Binding {
	if method == "GET" {
		return Form
	}
	return JSON
}
