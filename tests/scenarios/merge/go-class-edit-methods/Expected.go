type Shelf struct {
	base int
}

func (s *Shelf) count() int {
	value := s.base + 10
	return value
}

func (s *Shelf) total() int {
	value := s.base + 20
	return value
}

func (s *Shelf) first() int {
	value := s.base + 3
	return value
}
