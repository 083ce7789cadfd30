// Command hello is the smallest service this repository builds and
// deploys: an HTTP server with a health check. It proves the delivery path
// (image build, push, scan, per-service rollout) end to end, and is a
// template for a real service.
//
// It reads what the platform gives every container: PORT, SERVICE_NAME and
// APP_ENV. Behind the load balancer a service is routed by a path prefix
// (paths: ["/hello/*"]), so every route also answers under /<SERVICE_NAME>.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is the commit the image was built from (-ldflags -X main.version=...).
var version = "dev"

func newHandler(name, env string) http.Handler {
	health := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	}
	greet := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"service": name, "environment": env, "version": version})
	}
	mux := http.NewServeMux()
	for _, prefix := range []string{"", "/" + name} {
		mux.HandleFunc("GET "+prefix+"/health", health)
		mux.HandleFunc("GET "+prefix+"/{$}", greet)
	}
	return mux
}

func getenv(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func main() {
	name := getenv("SERVICE_NAME", "hello")
	server := &http.Server{
		Addr:              ":" + getenv("PORT", "8080"),
		Handler:           newHandler(name, getenv("APP_ENV", "local")),
		ReadHeaderTimeout: 5 * time.Second,
	}
	// ECS stops a task with SIGTERM, then SIGKILL after the stop timeout
	// (30 s by default): finish the requests in flight before that.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	log.Printf("%s %s listening on %s", name, version, server.Addr)
	if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
