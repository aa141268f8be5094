package cache

import (
	"net/http"
	"strings"
)

// Server serves cached values over HTTP.
type Server struct {
	store *LRU
	root  string
}

// ServeHTTP answers GET /<root>/<key>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, s.root)
	http.Error(w, "no value for "+key, http.StatusNotFound)
}
