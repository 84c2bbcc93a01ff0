package main

import (
	"duplex/server/chat"
	"duplex/server/echo"
	"duplex/server/lab"
	"duplex/server/playground"
	"duplex/server/tour"
	"duplex/server/web"
)

// demos lists the demos this server serves, in the navigation's order;
// the index marks the first as the place to start.
// This list alone drives the routes, the navigation, the index page, the
// flags each demo adds and the test that opens every page. To remove a
// demo, delete its line here and its folders (server/<name>, wasm/<name>,
// wasm/app/<name>, and what only it uses) — or start an app without it:
// `go run build.go new -keep echo,chat …`.
func demos() []web.Demo {
	return []web.Demo{
		tour.Demo(), // leads into the lab, the playground and echo
		echo.Demo(),
		chat.Demo(),
		playground.Demo(), // talks to echo's endpoint
		lab.Demo(),
	}
}
