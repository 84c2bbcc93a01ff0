package frontend_test

import (
	"context"
	"fmt"
	"log"

	"duplex/frontend"
)

// The front end as `go run build.go serve` builds it: every wasm app, the
// script and the styles, hashed and compressed, with a manifest.
func ExampleBuild() {
	assets, err := frontend.Build(context.Background(), frontend.Options{Root: ".", OutDir: "server/web/static"})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range assets {
		fmt.Println(a.Name, "→", a.File, a.Br, "bytes with brotli")
	}
}

// The front end as `go run build.go dev` keeps it: built whole once, then
// only the echo app, after a change to its Go, in place.
func ExampleDevBuild() {
	b := frontend.DevBuild{Root: ".", Dir: "bin/dev/static"}
	ctx := context.Background()
	if err := b.All(ctx); err != nil {
		log.Fatal(err)
	}
	if err := b.Update(ctx, []string{"echo"}, false); err != nil {
		log.Fatal(err)
	}
}
