package tour

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"duplex/server/web"
)

// Path is the tour's first page.
const Path = "/tour"

// Demo returns the tour, for the command's list of demos. Its steps lead
// into the lab, the playground, the echo page and the chat.
func Demo() web.Demo {
	return web.Demo{
		Name:  "tour",
		Nav:   "Tour",
		Path:  Path,
		Title: "A guided tour",
		About: "Twelve short steps through the upgrade, the frame's bits, masking, fragments, ping and pong, closing, compression, a chat that loses nothing, the handshake it replaced and what happens when WebSocket is blocked, each in a live demo and in the code.",
		Needs: []string{"lab", "playground", "echo", "chat"},
		Source: []web.SourceLink{
			{Label: "the steps", File: "server/tour/steps.go#steps"},
		},
		Page: func(p web.Page) templ.Component { return index(p) },
		Mount: func(r chi.Router, env *web.Env) error {
			r.Get(Path+"/{step}", func(w http.ResponseWriter, req *http.Request) {
				slug := chi.URLParam(req, "step")
				for i, s := range steps {
					if s.Slug == slug {
						p := env.Page(Path+"/"+slug, s.Title)
						templ.Handler(stepPage(p, i)).ServeHTTP(w, req)
						return
					}
				}
				http.Error(w, "the tour has no step "+slug, http.StatusNotFound)
			})
			return nil
		},
	}
}
