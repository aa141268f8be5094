package web

// Request holds the state of one request while its handlers run.
type Request struct {
	recorder responseRecorder
	Writer   ResponseWriter

	handlers []Handler
	step     int8

	Server   *Server
	Values   map[string]any
	Problems problemList
	formats  []string
}

func (r *Request) reset() {
	r.Writer = &r.recorder
	r.handlers = nil
	r.step = -1
	r.Values = nil
	r.Problems = r.Problems[0:0]
	r.formats = nil
}
