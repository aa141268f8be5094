package web

import (
	"log"
	"time"
)

func AccessLog(out *log.Logger) Handler {
	return func(r *Request) {
		start := time.Now()
		r.Next()

		latency := time.Since(start)
		out.Printf("[WEB] %v | %3d | %12v | %3.1f%% | %s %s\n",
			time.Now().Format("2006/01/02 - 15:04:05"),
			r.Writer.Status(),
			latency,
			r.Server.CacheLoad()*100,
			r.Method, r.URL.Path,
		)
	}
}
