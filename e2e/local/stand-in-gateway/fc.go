package main

// KrakenD's Flexible Configuration, rendered the way KrakenD renders it: Go's
// text/template with sprig's generic functions plus `marshal` and `include`, the
// settings directory's *.json files as `.<file name>`, and every *.tmpl of the
// templates directory parsed beside the main template. Settings come from the same
// environment variables KrakenD reads (FC_ENABLE, FC_SETTINGS, FC_PARTIALS,
// FC_TEMPLATES, FC_OUT).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

type flexibleConfig struct {
	Settings  string
	Partials  string
	Templates string
}

func flexibleConfigFromEnv() (flexibleConfig, bool) {
	if os.Getenv("FC_ENABLE") == "" {
		return flexibleConfig{}, false
	}
	return flexibleConfig{
		Settings:  os.Getenv("FC_SETTINGS"),
		Partials:  os.Getenv("FC_PARTIALS"),
		Templates: os.Getenv("FC_TEMPLATES"),
	}, true
}

// render executes the template file with the settings, as KrakenD does at start.
func (fc flexibleConfig) render(configFile string) ([]byte, error) {
	vars := map[string]any{}
	if fc.Settings != "" {
		entries, err := os.ReadDir(fc.Settings)
		if err != nil {
			return nil, fmt.Errorf("settings: %w", err)
		}
		for _, entry := range entries {
			if !strings.HasSuffix(entry.Name(), ".json") {
				continue
			}
			raw, err := os.ReadFile(filepath.Join(fc.Settings, entry.Name()))
			if err != nil {
				return nil, err
			}
			var v map[string]any
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, fmt.Errorf("settings %s: %w", entry.Name(), err)
			}
			vars[strings.TrimSuffix(entry.Name(), ".json")] = v
		}
	}
	var templates []string
	if fc.Templates != "" {
		entries, err := os.ReadDir(fc.Templates)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		for _, entry := range entries {
			if strings.HasSuffix(entry.Name(), ".tmpl") {
				templates = append(templates, filepath.Join(fc.Templates, entry.Name()))
			}
		}
	}
	funcs := sprig.GenericFuncMap()
	funcs["marshal"] = func(v any) string {
		raw, _ := json.Marshal(v)
		return string(raw)
	}
	funcs["include"] = func(v any) string {
		raw, _ := os.ReadFile(path.Join(fc.Partials, v.(string)))
		return string(raw)
	}
	tmpl, err := template.New("config").Funcs(funcs).ParseFiles(configFile)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", configFile, err)
	}
	if len(templates) > 0 {
		if tmpl, err = tmpl.ParseFiles(templates...); err != nil {
			return nil, fmt.Errorf("parsing sub-templates: %w", err)
		}
	}
	var out bytes.Buffer
	if err := tmpl.ExecuteTemplate(&out, filepath.Base(configFile), vars); err != nil {
		return nil, fmt.Errorf("executing %s: %w", configFile, err)
	}
	return out.Bytes(), nil
}

// loadConfigFile reads a configuration file, rendering it first when Flexible
// Configuration is enabled, and writes the result to FC_OUT when that is set.
func loadConfigFile(configFile string) ([]byte, error) {
	fc, enabled := flexibleConfigFromEnv()
	if !enabled {
		return os.ReadFile(configFile)
	}
	rendered, err := fc.render(configFile)
	if err != nil {
		return nil, err
	}
	if out := os.Getenv("FC_OUT"); out != "" {
		if err := os.WriteFile(out, rendered, 0o644); err != nil {
			return nil, err
		}
	}
	return rendered, nil
}
