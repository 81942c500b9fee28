package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// KrakenD's schema: KRAKEND_SCHEMA (e2e/tests/check-gateway.sh sets it) or shared/'s copy.
var schemaFile = func() string {
	if f := os.Getenv("KRAKEND_SCHEMA"); f != "" {
		return f
	}
	return "../../../shared/krakend/schema-v2.13.json"
}()

func schemaOrSkip(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(schemaFile); err != nil {
		t.Skipf("no KrakenD schema at %s", schemaFile)
	}
}

func TestRealConfigurationPassesCheck(t *testing.T) {
	schemaOrSkip(t)
	for _, settings := range []string{"local", "kubernetes"} {
		if err := checkConfig(renderReal(t, settings, nil, nil), schemaFile); err != nil {
			t.Errorf("%s: %v", settings, err)
		}
	}
}

// endpointNamed finds an endpoint of the rendered document.
func endpointNamed(doc map[string]any, method, path string) map[string]any {
	for _, item := range doc["endpoints"].([]any) {
		e := item.(map[string]any)
		if e["method"] == method && e["endpoint"] == path {
			return e
		}
	}
	return nil
}

func TestCheckCatchesTrapsAndSchemaViolations(t *testing.T) {
	schemaOrSkip(t)
	rendered := renderReal(t, "local", nil, nil)
	extra := func(e map[string]any, ns string) map[string]any {
		return e["extra_config"].(map[string]any)[ns].(map[string]any)
	}
	for name, c := range map[string]struct {
		edit func(doc map[string]any)
		want string
	}{
		"validator with a local JWK without disable_jwk_security": {func(d map[string]any) {
			extra(endpointNamed(d, "GET", "/api/v1/me"), "auth/validator")["disable_jwk_security"] = false
		}, "disable_jwk_security"},
		"signer with a local JWK without disable_jwk_security": {func(d map[string]any) {
			extra(endpointNamed(d, "POST", "/api/v1/auth/login"), "auth/signer")["disable_jwk_security"] = false
		}, "disable_jwk_security"},
		"cache with a local JWK": {func(d map[string]any) {
			extra(endpointNamed(d, "GET", "/api/v1/me"), "auth/validator")["cache"] = true
		}, "cache: true"},
		"propagated claim header not in input_headers": {func(d map[string]any) {
			endpointNamed(d, "GET", "/api/v1/me")["input_headers"] = []any{"Content-Type"}
		}, "which input_headers does not list"},
		"X-User-Id without a validator": {func(d map[string]any) {
			e := endpointNamed(d, "GET", "/api/v1/products")
			e["input_headers"] = append(e["input_headers"].([]any), "X-User-Id")
		}, "without a validator"},
		"unknown key": {func(d map[string]any) {
			d["listen_port"] = 8080
		}, "not valid against KrakenD's schema"},
		"bad alg": {func(d map[string]any) {
			extra(endpointNamed(d, "GET", "/api/v1/me"), "auth/validator")["alg"] = "EdDSA512"
		}, "not valid against KrakenD's schema"},
	} {
		var doc map[string]any
		if err := json.Unmarshal(rendered, &doc); err != nil {
			t.Fatal(err)
		}
		if endpointNamed(doc, "GET", "/api/v1/me") == nil {
			t.Fatal("no GET /api/v1/me in the rendered configuration")
		}
		c.edit(doc)
		raw, _ := json.Marshal(doc)
		err := checkConfig(raw, schemaFile)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, c.want)
		}
	}
}
