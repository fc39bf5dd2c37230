; Markdown is chunked by headings: the code reads levels from the heading markers.
(atx_heading) @heading
(setext_heading) @heading
