package main

// The part of KrakenD's configuration this stand-in understands, decoded strictly: a
// key it does not know, anywhere, stops it at start rather than being silently ignored.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

type config struct {
	Schema                    string       `json:"$schema"`
	Version                   int          `json:"version"`
	Name                      string       `json:"name"`
	ListenIP                  string       `json:"listen_ip"`
	Port                      int          `json:"port"`
	Timeout                   duration     `json:"timeout"`
	ReadHeaderTimeout         duration     `json:"read_header_timeout"`
	IdleTimeout               duration     `json:"idle_timeout"`
	MaxIdleConnectionsPerHost int          `json:"max_idle_connections_per_host"`
	OutputEncoding            string       `json:"output_encoding"`
	ExtraConfig               serviceExtra `json:"extra_config"`
	Endpoints                 []endpoint   `json:"endpoints"`
}

type serviceExtra struct {
	Router    *routerConfig    `json:"router"`
	Logging   *loggingConfig   `json:"telemetry/logging"`
	Telemetry *telemetryConfig `json:"telemetry/opentelemetry"`
}

type routerConfig struct {
	ReturnErrorMsg    bool   `json:"return_error_msg"`
	HideVersionHeader bool   `json:"hide_version_header"`
	DisableAccessLog  bool   `json:"disable_access_log"`
	HealthPath        string `json:"health_path"`
}

type loggingConfig struct {
	Level  string `json:"level"`
	Prefix string `json:"prefix"`
	Stdout bool   `json:"stdout"`
}

type telemetryConfig struct {
	ServiceName     string   `json:"service_name"`
	DeployEnv       string   `json:"deploy_env"`
	TraceSampleRate *float64 `json:"trace_sample_rate"`
	Exporters       struct {
		OTLP []struct {
			Name           string `json:"name"`
			Host           string `json:"host"`
			Port           int    `json:"port"`
			UseHTTP        bool   `json:"use_http"`
			DisableMetrics bool   `json:"disable_metrics"`
		} `json:"otlp"`
	} `json:"exporters"`
	Layers struct {
		Global struct {
			ReportHeaders bool `json:"report_headers"`
		} `json:"global"`
		Proxy struct {
			DisableMetrics bool `json:"disable_metrics"`
		} `json:"proxy"`
		Backend struct {
			Metrics struct {
				DisableStage bool `json:"disable_stage"`
			} `json:"metrics"`
			// A pointer: without it KrakenD also traces the payload reading and
			// the connection details, which this stand-in does not.
			Traces *struct {
				RoundTrip bool `json:"round_trip"`
			} `json:"traces"`
		} `json:"backend"`
	} `json:"layers"`
}

type endpoint struct {
	Endpoint          string        `json:"endpoint"`
	Method            string        `json:"method"`
	Timeout           duration      `json:"timeout"`
	OutputEncoding    string        `json:"output_encoding"`
	InputQueryStrings []string      `json:"input_query_strings"`
	InputHeaders      []string      `json:"input_headers"`
	ExtraConfig       endpointExtra `json:"extra_config"`
	Backend           []backend     `json:"backend"`

	route  string   // as gin registers it: /api/v1/products/:id
	params []string // the route's parameter names, in order
}

type endpointExtra struct {
	Validator *validatorConfig `json:"auth/validator"`
	Signer    *signerConfig    `json:"auth/signer"`
	RateLimit *rateLimitConfig `json:"qos/ratelimit/router"`
}

type validatorConfig struct {
	Alg                string     `json:"alg"`
	JWKLocalPath       string     `json:"jwk_local_path"`
	DisableJWKSecurity bool       `json:"disable_jwk_security"`
	Cache              bool       `json:"cache"`
	Issuer             string     `json:"issuer"`
	Audience           []string   `json:"audience"`
	PropagateClaims    [][]string `json:"propagate_claims"`
}

type signerConfig struct {
	Alg                string   `json:"alg"`
	KID                string   `json:"kid"`
	KeysToSign         []string `json:"keys_to_sign"`
	JWKLocalPath       string   `json:"jwk_local_path"`
	DisableJWKSecurity bool     `json:"disable_jwk_security"`
}

type rateLimitConfig struct {
	MaxRate        float64  `json:"max_rate"`
	Capacity       int      `json:"capacity"`
	ClientMaxRate  float64  `json:"client_max_rate"`
	ClientCapacity int      `json:"client_capacity"`
	Every          duration `json:"every"`
	Strategy       string   `json:"strategy"`
	Key            string   `json:"key"`
}

type backend struct {
	Host       []string `json:"host"`
	URLPattern string   `json:"url_pattern"`
	Encoding   string   `json:"encoding"`

	pattern string // url_pattern as lura keeps it: /products/{{.Id}}
}

// duration is a KrakenD time unit ("10s", "1m").
type duration time.Duration

func (d *duration) UnmarshalJSON(raw []byte) error {
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return err
	}
	parsed, err := time.ParseDuration(text)
	if err != nil {
		return err
	}
	*d = duration(parsed)
	return nil
}

func parseConfig(rendered []byte) (*config, error) {
	decoder := json.NewDecoder(bytes.NewReader(rendered))
	decoder.DisallowUnknownFields()
	var cfg config
	if err := decoder.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("this stand-in does not understand the configuration: %w", err)
	}
	if cfg.Version != 3 {
		return nil, fmt.Errorf("configuration version %d, want 3", cfg.Version)
	}
	for i, e := range cfg.Endpoints {
		if len(e.Backend) != 1 || len(e.Backend[0].Host) != 1 {
			return nil, fmt.Errorf("endpoint %d (%s): this stand-in serves exactly one backend with one host", i, e.Endpoint)
		}
		if e.ExtraConfig.RateLimit != nil && e.ExtraConfig.RateLimit.Strategy != "header" {
			return nil, fmt.Errorf("endpoint %s: rate-limit strategy %q is not supported by this stand-in", e.Endpoint, e.ExtraConfig.RateLimit.Strategy)
		}
	}
	if err := cfg.normalize(); err != nil {
		return nil, fmt.Errorf("this stand-in does not understand the configuration: %w", err)
	}
	return &cfg, nil
}
