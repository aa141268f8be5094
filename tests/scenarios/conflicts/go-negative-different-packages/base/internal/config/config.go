// Package config holds the application settings.
package config

import "encoding/json"

// Settings are the application settings.
type Settings struct {
	Addr  string `json:"addr"`
	Debug bool   `json:"debug"`
}

// Parse decodes settings from JSON.
func Parse(data []byte) (Settings, error) {
	var s Settings
	err := json.Unmarshal(data, &s)
	return s, err
}
