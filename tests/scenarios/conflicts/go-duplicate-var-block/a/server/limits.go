package server

import "time"

// Limits of one connection.
const (
	MaxHeaderBytes = 1 << 20
	MaxBodyBytes   = 10 << 20
	ReadTimeout    = 30 * time.Second
)

// Defaults a listener starts with.
var (
	DefaultAddr    = ":8080"
	DefaultQueue   = 128
)
