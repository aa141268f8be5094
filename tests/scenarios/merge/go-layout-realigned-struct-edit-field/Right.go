package shop

type Order struct {
	ID    int
	Name  string
	Total int64
}

func (o Order) Label() string {
	return o.Name
}
