package binding

var (
	JSON     = jsonBinding{}
	XML      = xmlBinding{}
	Form     = formBinding{}
	ProtoBuf = protobufBinding{}
)

func Default(method string) Binding {
	if method == "GET" {
		return Form
	}
	return JSON
}
