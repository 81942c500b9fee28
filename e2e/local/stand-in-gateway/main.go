// krakend-stand-in: a STAND-IN for KrakenD CE, for machines where KrakenD cannot be
// built. It renders and checks krakend/'s configuration exactly as KrakenD would read
// it, and serves the subset of KrakenD that configuration uses. It is not KrakenD.
package main

import (
	"flag"
	"fmt"
	"os"
)

func usage() {
	fmt.Fprintln(os.Stderr, `usage: krakend-stand-in COMMAND [flags]

  run   -c FILE            serve the configuration (a STAND-IN for "krakend run")
  check -c FILE -s SCHEMA  render, validate against KrakenD's JSON Schema, catch traps
  render -c FILE           print the rendered configuration
  keys  -dir DIR -kid KID  write an Ed25519 JWK pair (private.json, public.json)

Flexible Configuration is read from FC_ENABLE, FC_SETTINGS, FC_PARTIALS, FC_TEMPLATES
and FC_OUT, as KrakenD reads it.`)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	command, args := os.Args[1], os.Args[2:]
	flags := flag.NewFlagSet(command, flag.ExitOnError)
	configFile := flags.String("c", "krakend.json", "configuration file")
	schema := flags.String("s", "", "KrakenD's JSON Schema (check)")
	dir := flags.String("dir", ".", "directory for the key pair (keys)")
	kid := flags.String("kid", "", "key id (keys)")
	_ = flags.Parse(args)

	var err error
	switch command {
	case "run":
		err = run(*configFile)
	case "check":
		err = checkFile(*configFile, *schema)
		if err == nil {
			fmt.Println("Syntax OK!")
		}
	case "render":
		var rendered []byte
		if rendered, err = loadConfigFile(*configFile); err == nil {
			_, err = os.Stdout.Write(rendered)
		}
	case "keys":
		err = writeKeyPair(*dir, *kid)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "krakend-stand-in:", err)
		os.Exit(1)
	}
}
