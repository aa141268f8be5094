package shop

type Order struct {
	ID          int
	Name        string
	Total       float64
	DeliveredAt string
}

func (o Order) Label() string {
	return o.Name
}
