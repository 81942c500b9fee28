package main

// KrakenD's defaults, applied the way lura's config.Init applies them, and a refusal
// of everything this stand-in would not serve exactly as KrakenD does.

import (
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"regexp"
	"strings"
	"time"
)

var (
	// lura config/uri.go and config/config.go
	endpointParam = regexp.MustCompile(`^\{([a-zA-Z\-_0-9]+)\}$`)
	outputParam   = regexp.MustCompile(`\{([\w\-\.:/]+)\}`)
	hostPattern   = regexp.MustCompile(`(https?://)?([a-zA-Z0-9\._\-]+)(:[0-9]{2,6})?/?`)
	reservedPath  = regexp.MustCompile(`^[^/]|\*.|/__(debug|echo|health)(/.*)?$`)
	jwtParam      = regexp.MustCompile(`^JWT\.([\w\-:/]+)$`)
)

// go-logging's level names, most severe first.
var logLevels = []string{"CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"}

func (c *config) normalize() error {
	if c.Port == 0 {
		c.Port = 8080
	}
	if c.ListenIP != "" && net.ParseIP(c.ListenIP) == nil {
		return fmt.Errorf("invalid ip address %s", c.ListenIP)
	}
	if c.Timeout == 0 {
		c.Timeout = duration(2 * time.Second)
	}
	if c.MaxIdleConnectionsPerHost == 0 {
		c.MaxIdleConnectionsPerHost = 250
	}
	switch c.OutputEncoding {
	case "", "no-op", "json":
	default:
		return fmt.Errorf("output_encoding %q", c.OutputEncoding)
	}
	extra := &c.ExtraConfig
	if extra.Router == nil {
		extra.Router = &routerConfig{}
	}
	if extra.Router.HealthPath == "" {
		extra.Router.HealthPath = "/__health"
	}
	if !strings.HasPrefix(extra.Router.HealthPath, "/") {
		return fmt.Errorf("health_path %q must begin with /", extra.Router.HealthPath)
	}
	if extra.Logging == nil {
		return errors.New("no telemetry/logging: KrakenD's fallback logger is not reproduced")
	}
	if logLevel(extra.Logging.Level) < 0 {
		return fmt.Errorf("telemetry/logging level %q", extra.Logging.Level)
	}
	if extra.Telemetry != nil {
		if err := c.normalizeTelemetry(); err != nil {
			return fmt.Errorf("telemetry/opentelemetry: %w", err)
		}
	}

	// gin panics on a route registered twice or on two names for one parameter.
	routes := newRouter()
	if err := routes.add("GET", extra.Router.HealthPath, nil); err != nil {
		return err
	}
	for i := range c.Endpoints {
		e := &c.Endpoints[i]
		if err := c.normalizeEndpoint(e); err != nil {
			return fmt.Errorf("endpoint %s %s: %w", e.Method, e.Endpoint, err)
		}
		if err := routes.add(e.Method, e.route, nil); err != nil {
			return err
		}
	}
	return nil
}

func logLevel(name string) int {
	for i, level := range logLevels {
		if strings.EqualFold(level, name) {
			return i
		}
	}
	return -1
}

func (c *config) normalizeEndpoint(e *endpoint) error {
	e.Endpoint = "/" + strings.TrimPrefix(e.Endpoint, "/")
	if reservedPath.MatchString(e.Endpoint) {
		return errors.New("KrakenD refuses this endpoint path")
	}
	if e.Method == "" {
		e.Method = "GET"
	}
	e.Method = strings.ToUpper(e.Method)
	switch e.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
	default:
		return errors.New("unsupported method")
	}
	if e.Timeout == 0 {
		e.Timeout = c.Timeout
	}
	if e.OutputEncoding == "" {
		e.OutputEncoding = c.OutputEncoding
	}
	if e.OutputEncoding == "" {
		e.OutputEncoding = "json"
	}

	segments := strings.Split(e.Endpoint[1:], "/")
	for i, segment := range segments {
		if m := endpointParam.FindStringSubmatch(segment); m != nil {
			e.params = append(e.params, m[1])
			segments[i] = ":" + m[1]
		} else if segment == "" || strings.ContainsAny(segment, "{}:*?#") {
			return errors.New("this stand-in routes plain segments and {param} segments only")
		}
	}
	e.route = "/" + strings.Join(segments, "/")

	for i, h := range e.InputHeaders {
		if h == "*" {
			return errors.New(`input_headers "*" is not supported by this stand-in`)
		}
		e.InputHeaders[i] = textproto.CanonicalMIMEHeaderKey(h)
	}
	for _, q := range e.InputQueryStrings {
		if q == "*" {
			return errors.New(`input_query_strings "*" is not supported by this stand-in`)
		}
	}

	b := &e.Backend[0]
	matches := hostPattern.FindAllStringSubmatch(b.Host[0], -1)
	if len(matches) != 1 {
		return fmt.Errorf("host %s not valid", b.Host[0])
	}
	if matches[0][1] == "" {
		matches[0][1] = "http://"
	}
	b.Host[0] = strings.Join(matches[0][1:], "")
	b.URLPattern = "/" + strings.TrimPrefix(b.URLPattern, "/")

	extra := e.ExtraConfig
	if e.OutputEncoding == "no-op" {
		b.Encoding = "no-op" // lura forces it
		if extra.Signer != nil {
			return errors.New("auth/signer needs output_encoding json")
		}
	} else if e.OutputEncoding != "json" || (b.Encoding != "json" && b.Encoding != "") || extra.Signer == nil {
		return errors.New("this stand-in serves no-op endpoints, and json endpoints only with auth/signer")
	}

	// url_pattern placeholders become {{.Key}}, the key's first letter upper-cased.
	b.pattern = b.URLPattern
	for _, m := range outputParam.FindAllStringSubmatch(b.URLPattern, -1) {
		name := m[1]
		if jwtParam.MatchString(name) {
			if extra.Validator == nil {
				return fmt.Errorf("{%s} without auth/validator", name)
			}
		} else if !contains(e.params, name) {
			return fmt.Errorf("url_pattern parameter {%s} is not in the endpoint", name)
		}
		b.pattern = strings.ReplaceAll(b.pattern, "{"+name+"}", "{{."+paramKey(name)+"}}")
	}

	if v := extra.Validator; v != nil {
		if v.Alg != "EdDSA" || v.JWKLocalPath == "" {
			return errors.New("this stand-in validates EdDSA tokens with jwk_local_path only")
		}
		for _, pair := range v.PropagateClaims {
			if len(pair) != 2 || strings.Contains(pair[0], ".") {
				return fmt.Errorf("propagate_claims %v: only [claim, header] pairs of top-level claims", pair)
			}
		}
	}
	if s := extra.Signer; s != nil && (s.Alg != "EdDSA" || s.JWKLocalPath == "") {
		return errors.New("this stand-in signs EdDSA with jwk_local_path only")
	}
	if l := extra.RateLimit; l != nil && (l.Capacity < 0 || l.ClientCapacity < 0) {
		return errors.New("negative rate-limit capacity")
	}
	return nil
}

// paramKey is the name lura gives a parameter: its first letter upper-cased.
func paramKey(name string) string {
	return strings.ToUpper(name[:1]) + name[1:]
}

func (c *config) normalizeTelemetry() error {
	t := c.ExtraConfig.Telemetry
	if t.ServiceName == "" {
		t.ServiceName = c.Name
	}
	if t.ServiceName == "" {
		t.ServiceName = "KrakenD"
	}
	if t.TraceSampleRate == nil {
		one := 1.0
		t.TraceSampleRate = &one
	}
	if len(t.Exporters.OTLP) == 0 {
		return errors.New("no otlp exporter")
	}
	names := map[string]bool{}
	for i := range t.Exporters.OTLP {
		x := &t.Exporters.OTLP[i]
		if names[x.Name] {
			return fmt.Errorf("OTLP exporter with duplicate name: %s", x.Name)
		}
		names[x.Name] = true
		if !x.UseHTTP || !x.DisableMetrics {
			return fmt.Errorf("exporter %s: this stand-in exports traces over OTLP/HTTP only (use_http, disable_metrics)", x.Name)
		}
		if x.Host == "" {
			x.Host = "localhost"
		}
		if x.Port == 0 {
			x.Port = 4317
		}
	}
	if t.Layers.Global.ReportHeaders {
		return errors.New("report_headers is not supported by this stand-in")
	}
	if t.Layers.Backend.Traces == nil {
		return errors.New("layers.backend.traces must be given (KrakenD's default also traces payload reads)")
	}
	return nil
}

func contains(list []string, want string) bool {
	for _, item := range list {
		if item == want {
			return true
		}
	}
	return false
}
