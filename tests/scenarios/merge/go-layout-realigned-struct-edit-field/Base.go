package shop

type Order struct {
	ID    int
	Name  string
	Total float64
}

func (o Order) Label() string {
	return o.Name
}
