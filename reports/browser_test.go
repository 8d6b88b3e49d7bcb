package reports

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// committedRun is the ablation's run folder, committed with its report.
const committedRun = "results/ngame-vs-ance-vs-random/run"

// chromium finds Debian's chromium (scripts/test.sh installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: the browser check of the HTML report is skipped (scripts/test.sh installs Debian's chromium)")
	return ""
}

// headless runs chromium on a file at a 1280 px wide window.
func headless(t *testing.T, bin, page string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--window-size=1280,1600"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, "file://"+page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

// measureScript writes, for the whole page and every table and figure,
// the right edge against the window's width into the DOM, so --dump-dom
// carries the layout out of the browser.
const measureScript = `<script>
(function(){
  var w = document.documentElement.clientWidth, lines = ["page " + document.documentElement.scrollWidth + " " + w];
  document.querySelectorAll("table, figure").forEach(function(e){
    var r = e.getBoundingClientRect();
    lines.push((e.id || e.tagName) + " " + Math.ceil(r.right) + " " + w);
  });
  var p = document.createElement("pre"); p.id = "xcb-measure"; p.textContent = lines.join("\n");
  document.body.appendChild(p);
})();
</script>`

// TestHTMLInBrowser renders the committed ablation's HTML report in
// headless chromium: the screenshot is not blank, nothing is wider than a
// 1280 px window, and the page holds the run's metadata and every table.
func TestHTMLInBrowser(t *testing.T) {
	bin := chromium(t)
	rep, err := LoadWith(committedRun, Options{Targets: map[string]float64{"cooking": 0.66, "bibtex": 0.58, "delicious": 0.35}})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, rep); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	html := filepath.Join(dir, "report.html")
	if err := os.WriteFile(html, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	shot := filepath.Join(dir, "shot.png")
	headless(t, bin, html, "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if frac := inkFraction(img); frac < 0.02 {
		t.Fatalf("screenshot is blank: %.4f of its pixels are not white", frac)
	}

	measured := strings.Replace(page.String(), "</body>", measureScript+"</body>", 1)
	mpath := filepath.Join(dir, "measure.html")
	if err := os.WriteFile(mpath, []byte(measured), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(headless(t, bin, mpath, "--dump-dom"))
	m := regexp.MustCompile(`(?s)<pre id="xcb-measure">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the measuring script did not run; DOM starts %.300q", dom)
	}
	lines := strings.Split(strings.TrimSpace(m[1]), "\n")
	if len(lines) < 10 {
		t.Fatalf("measured only %d elements:\n%s", len(lines), m[1])
	}
	for _, l := range lines {
		var name string
		var right, width int
		fs := strings.Fields(l)
		if len(fs) != 3 {
			t.Fatalf("measure line %q", l)
		}
		name = fs[0]
		right, _ = strconv.Atoi(fs[1])
		width, _ = strconv.Atoi(fs[2])
		if width < 1200 || right > width {
			t.Errorf("%s: right edge %d px, window %d px: it overflows", name, right, width)
		}
	}
	for _, id := range []string{`id="meta"`, `id="plugins"`, `id="legend"`, `id="convergence"`, `id="budget"`,
		`id="accuracy`, `id="stage2`, `id="cost`, `id="fig-memory"`, "grid sha256", "commit", "3f9cd2d6c39173b1b812c55c6003f17c4ab5c956"} {
		if !strings.Contains(dom, id) {
			t.Errorf("rendered DOM lacks %s", id)
		}
	}
	if n := strings.Count(dom, `class="results"`); n < 6 {
		t.Errorf("%d result tables in the DOM, want at least 6", n)
	}
}

// inkFraction is the share of pixels that are not (nearly) white.
func inkFraction(img image.Image) float64 {
	b := img.Bounds()
	ink, all := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			all++
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				ink++
			}
		}
	}
	return float64(ink) / float64(all)
}

// TestLaTeXCompiles inputs the committed ablation's tables, as report
// writes them, into a minimal two-column-width document and runs pdflatex
// (Debian's texlive-latex-base; scripts/test.sh installs it): it must
// compile with no overfull box, so every table fits the text width.
func TestLaTeXCompiles(t *testing.T) {
	bin, err := exec.LookPath("pdflatex")
	if err != nil {
		t.Skip("no pdflatex on PATH: the LaTeX compile check is skipped (scripts/test.sh installs texlive-latex-base and texlive-latex-recommended)")
	}
	rep, err := LoadWith(committedRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var tex bytes.Buffer
	if err := Render(&tex, rep, "latex"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.tex"), tex.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := `\documentclass{article}
\usepackage{booktabs}
\setlength{\textwidth}{7in}\setlength{\oddsidemargin}{-0.25in}\setlength{\evensidemargin}{-0.25in}
\begin{document}
\input{report.tex}
\end{document}
`
	if err := os.WriteFile(filepath.Join(dir, "doc.tex"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-interaction=nonstopmode", "-halt-on-error", "doc.tex")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pdflatex: %v\n%s", err, out)
	}
	log, err := os.ReadFile(filepath.Join(dir, "doc.log"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(log, []byte("multiply defined")) {
		t.Errorf("duplicate table labels:\n%s", log)
	}
	if bytes.Contains(log, []byte("Overfull \\hbox")) {
		t.Fatalf("a table is wider than the text:\n%s", log)
	}
	if st, err := os.Stat(filepath.Join(dir, "doc.pdf")); err != nil || st.Size() < 1000 {
		t.Fatalf("no PDF: %v", err)
	}
}
