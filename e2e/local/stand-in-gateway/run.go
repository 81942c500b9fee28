package main

// `run`: serve the configuration until SIGINT or SIGTERM, then shut down
// gracefully (krakend-ce cmd/krakend-ce/main.go cancels, lura's RunServer calls
// Shutdown with no deadline, the tracer provider flushes last).

import (
	"context"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func run(configFile string) error {
	rendered, err := loadConfigFile(configFile)
	if err != nil {
		return err
	}
	cfg, err := parseConfig(rendered)
	if err != nil {
		return err
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	g, err := newGateway(ctx, cfg)
	if err != nil {
		return err
	}
	defer g.close(context.Background())
	server := &http.Server{
		Addr:              net.JoinHostPort(cfg.ListenIP, strconv.Itoa(cfg.Port)),
		Handler:           g.handler,
		ReadHeaderTimeout: time.Duration(cfg.ReadHeaderTimeout),
		IdleTimeout:       time.Duration(cfg.IdleTimeout),
	}
	listener, err := net.Listen("tcp", server.Addr)
	if err != nil {
		return err
	}
	// Whatever the log level: nobody should take this for KrakenD.
	g.log.always("krakend-stand-in: a STAND-IN for KrakenD CE " + krakendVersion +
		" (not KrakenD) serving " + strconv.Itoa(len(cfg.Endpoints)) + " endpoints on " + listener.Addr().String())

	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	select {
	case err := <-served:
		return err
	case sig := <-signals:
		log.Println("Signal intercepted:", sig)
	}
	err = server.Shutdown(context.Background())
	g.log.info("[SERVICE: Gin] Router execution ended")
	return err
}
