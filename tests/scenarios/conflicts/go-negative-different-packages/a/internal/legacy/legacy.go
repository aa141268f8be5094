// Package legacy reads the settings format of version 1.
package legacy

// Version is the format version this package understood.
const Version = 1
