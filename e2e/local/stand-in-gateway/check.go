package main

// `check`: the configuration as KrakenD would read it, validated against KrakenD's own
// JSON Schema, then the traps the schema cannot see (each one seen with a real KrakenD:
// ../shared/PITFALLS.md).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func checkFile(configFile, schemaFile string) error {
	rendered, err := loadConfigFile(configFile)
	if err != nil {
		return err
	}
	if schemaFile == "" {
		return errors.New("check needs KrakenD's JSON Schema (-s)")
	}
	return checkConfig(rendered, schemaFile)
}

func checkConfig(rendered []byte, schemaFile string) error {
	if err := validateSchema(rendered, schemaFile); err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(rendered, &doc); err != nil {
		return err
	}
	if problems := traps(doc); len(problems) > 0 {
		return fmt.Errorf("%d problem(s) the schema does not catch:\n  %s",
			len(problems), strings.Join(problems, "\n  "))
	}
	// Last, what this stand-in would refuse at start: a key it does not understand.
	if _, err := parseConfig(rendered); err != nil {
		return err
	}
	return nil
}

func validateSchema(rendered []byte, schemaFile string) error {
	raw, err := os.ReadFile(schemaFile)
	if err != nil {
		return err
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("schema %s: %w", schemaFile, err)
	}
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2019)
	if err := compiler.AddResource("krakend-schema.json", schemaDoc); err != nil {
		return err
	}
	schema, err := compiler.Compile("krakend-schema.json")
	if err != nil {
		return fmt.Errorf("schema %s: %w", schemaFile, err)
	}
	instance, err := jsonschema.UnmarshalJSON(bytes.NewReader(rendered))
	if err != nil {
		return fmt.Errorf("the rendered configuration is not JSON: %w", err)
	}
	if err := schema.Validate(instance); err != nil {
		return fmt.Errorf("not valid against KrakenD's schema: %w", err)
	}
	return nil
}

// traps lists what KrakenD accepts but gets wrong at run time.
func traps(doc map[string]any) []string {
	var problems []string
	endpoints, _ := doc["endpoints"].([]any)
	for _, item := range endpoints {
		endpoint, _ := item.(map[string]any)
		name := fmt.Sprintf("%v %v", endpoint["method"], endpoint["endpoint"])
		report := func(format string, args ...any) {
			problems = append(problems, name+": "+fmt.Sprintf(format, args...))
		}
		extra, _ := endpoint["extra_config"].(map[string]any)
		validator, hasValidator := extra["auth/validator"].(map[string]any)
		signer, hasSigner := extra["auth/signer"].(map[string]any)
		headers := stringList(endpoint["input_headers"])

		for _, auth := range []struct {
			name string
			cfg  map[string]any
		}{{"auth/validator", validator}, {"auth/signer", signer}} {
			if auth.cfg == nil || auth.cfg["jwk_local_path"] == nil {
				continue
			}
			if auth.cfg["disable_jwk_security"] != true {
				report("%s reads a local JWK file without disable_jwk_security: true (every request would be refused)", auth.name)
			}
			if auth.cfg["cache"] == true {
				report("%s has cache: true with a local JWK file (KrakenD fails at start)", auth.name)
			}
		}
		if hasValidator {
			for _, pair := range anyList(validator["propagate_claims"]) {
				claim := stringList(pair)
				if len(claim) == 2 && !containsFold(headers, claim[1]) {
					report("claim %q is propagated as %s, which input_headers does not list (the backend never sees it)", claim[0], claim[1])
				}
			}
		}
		if !hasValidator && (containsFold(headers, "X-User-Id") || containsFold(headers, "*")) {
			report("passes a caller's X-User-Id without a validator (anyone could act as any user)")
		}
		if hasSigner {
			if _, limited := extra["qos/ratelimit/router"]; limited {
				report("qos/ratelimit/router on an auth/signer endpoint is ignored by KrakenD")
			}
			if endpoint["output_encoding"] == "no-op" {
				report("auth/signer needs a decoded body: output_encoding must not be no-op")
			}
		}
	}
	return problems
}

func anyList(v any) []any {
	list, _ := v.([]any)
	return list
}

func stringList(v any) []string {
	var out []string
	for _, item := range anyList(v) {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func containsFold(list []string, want string) bool {
	for _, item := range list {
		if strings.EqualFold(item, want) {
			return true
		}
	}
	return false
}
