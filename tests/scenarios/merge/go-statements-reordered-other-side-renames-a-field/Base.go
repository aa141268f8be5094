package web

// Request holds the state of one request while its handlers run.
type Request struct {
	Server   *Server
	recorder responseRecorder
	Writer   ResponseWriter

	handlers []Handler
	step     int8

	Values   map[string]any
	Problems problemList
	formats  []string
}

func (r *Request) reset() {
	r.Values = nil
	r.step = -1
	r.formats = nil
	r.Problems = r.Problems[0:0]
}
