package main

// auth/validator and auth/signer as krakend-jose (jose.go, jws.go, jwk.go,
// gin/jose.go) and krakend/go-auth0 do them, with go-jose v4 where KrakenD still
// uses v3: the differences v3 → v4 that matter (v4 takes the allowed algorithms at
// parse time, its jwt package reads only the compact form, its audience check is
// "any" where v3's is "all") are bridged below.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

var (
	errTokenNotFound = errors.New("Token not found") // go-auth0's ErrTokenNotFound
	errNoKey         = errors.New("no key for the token's kid")
	errAudience      = errors.New("go-jose/go-jose/jwt: validation failed, invalid audience claim (aud)")
)

// readKeySet reads a JWK set file into a map by kid (krakend-jose FileKeyCacher).
func readKeySet(file string) (map[string]*jose.JSONWebKey, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, err
	}
	keys := make(map[string]*jose.JSONWebKey, len(set.Keys))
	for i := range set.Keys {
		keys[set.Keys[i].KeyID] = &set.Keys[i]
	}
	return keys, nil
}

type validator struct {
	alg      jose.SignatureAlgorithm
	keys     map[string]*jose.JSONWebKey
	issuer   string
	audience []string
}

func newValidator(cfg *validatorConfig) (*validator, error) {
	if cfg.Cache {
		return nil, errors.New("cache could not be used with jwk_local_path")
	}
	keys, err := readKeySet(cfg.JWKLocalPath)
	if err != nil {
		return nil, err
	}
	return &validator{alg: jose.SignatureAlgorithm(cfg.Alg), keys: keys, issuer: cfg.Issuer, audience: cfg.Audience}, nil
}

// validate is go-auth0's ValidateRequest then Claims: any error is a 401.
func (v *validator) validate(r *http.Request) (map[string]any, error) {
	token, err := v.extract(r)
	if err != nil {
		return nil, err
	}
	header := token.Headers[0]
	if header.Algorithm != string(v.alg) {
		return nil, errors.New("invalid algorithm")
	}
	key := v.keys[header.KeyID]
	if key == nil {
		return nil, errNoKey
	}
	var std jwt.Claims
	claims := map[string]any{}
	if err := token.Claims(key, &std, &claims); err != nil {
		return nil, err
	}
	// A second of leeway: krakend-jose's default, go-auth0's minimum.
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, Time: time.Now()}, time.Second); err != nil {
		return nil, err
	}
	for _, aud := range v.audience {
		if !std.Audience.Contains(aud) {
			return nil, errAudience
		}
	}
	return claims, nil
}

// extract tries the Authorization header, then the access_token cookie
// (krakend-jose FromHeader and FromCookie under go-auth0's FromMultiple): only a
// token found nowhere falls through; a malformed one is an error at once.
func (v *validator) extract(r *http.Request) (*jwt.JSONWebToken, error) {
	raw := r.Header.Get("Authorization")
	if len(raw) > 7 && strings.EqualFold(raw[:7], "BEARER ") {
		raw = raw[7:]
	}
	if raw != "" {
		return v.parse(raw)
	}
	cookie, err := r.Cookie("access_token")
	if err != nil {
		return nil, errTokenNotFound
	}
	return v.parse(cookie.Value)
}

// parse reads what go-jose v3's jwt.ParseSigned reads: whitespace ignored, the
// compact or the JSON serialization.
func (v *validator) parse(raw string) (*jwt.JSONWebToken, error) {
	algs := []jose.SignatureAlgorithm{v.alg}
	if strings.HasPrefix(raw, "{") || strings.ContainsFunc(raw, unicode.IsSpace) {
		jws, err := jose.ParseSigned(raw, algs)
		if err != nil {
			return nil, err
		}
		if raw, err = jws.CompactSerialize(); err != nil {
			return nil, err
		}
	}
	token, err := jwt.ParseSigned(raw, algs)
	if err != nil {
		return nil, err
	}
	if len(token.Headers) < 1 {
		return nil, errors.New("no headers in the token")
	}
	return token, nil
}

// claimString is krakend-jose's Claims.Get: how a claim becomes a header or a
// url parameter.
func claimString(claims map[string]any, name string) (string, bool) {
	value, ok := claims[name]
	if !ok {
		return "", false
	}
	switch v := value.(type) {
	case string:
		return v, true
	case float64:
		if r := math.Round(v); math.Abs(v-r) <= 1e-6 {
			return fmt.Sprintf("%d", int(r)), true
		}
		return fmt.Sprintf("%f", v), true
	case []any:
		var parts []string
		for _, item := range v {
			parts = append(parts, fmt.Sprintf("%v", item))
		}
		return strings.Join(parts, ","), true
	default:
		raw, _ := json.Marshal(v)
		return string(raw), true
	}
}

type signer struct {
	jose.Signer
	keys []string
}

// newSigner is krakend-jose's NewSigner; an error makes the endpoint answer 401.
func newSigner(cfg *signerConfig) (*signer, error) {
	if !cfg.DisableJWKSecurity {
		return nil, errors.New("JWK client is using an insecure connection to the JWK service")
	}
	keys, err := readKeySet(cfg.JWKLocalPath)
	if err != nil {
		return nil, err
	}
	key := keys[cfg.KID]
	if key == nil {
		return nil, fmt.Errorf("key '%s' not found in the key set", cfg.KID)
	}
	s, err := jose.NewSigner(jose.SigningKey{Key: key.Key, Algorithm: jose.SignatureAlgorithm(cfg.Alg)},
		&jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{"kid": key.KeyID, "typ": "JWT"}})
	if err != nil {
		return nil, err
	}
	return &signer{Signer: s, keys: cfg.KeysToSign}, nil
}

// signFields is krakend-jose's SignFields: each listed key holding an object
// becomes a compact JWS of that object.
func (s *signer) signFields(data map[string]any) error {
	for _, key := range s.keys {
		claims, ok := data[key].(map[string]any)
		if !ok {
			continue
		}
		payload, err := json.Marshal(claims)
		if err != nil {
			return fmt.Errorf("unable to serialize payload: %s", err)
		}
		jws, err := s.Sign(payload)
		if err != nil {
			return fmt.Errorf("unable to sign payload: %s", err)
		}
		token, err := jws.CompactSerialize()
		if err != nil {
			return err
		}
		data[key] = token
	}
	return nil
}
