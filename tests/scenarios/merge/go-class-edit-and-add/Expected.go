type Shelf struct {
	base int
}

func (s *Shelf) count() int {
	value := s.base + 1
	return value * 2
}

func (s *Shelf) last() int {
	value := s.base + 4
	return value
}

func (s *Shelf) total() int {
	value := s.base + 2
	return value
}
