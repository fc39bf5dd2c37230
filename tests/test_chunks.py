"""Syntax-aware chunks and symbols: real tree-sitter grammars on small, realistic files.

Line numbers are 1-based and inclusive, as `chunk_file` reports them.
"""

from __future__ import annotations

import re
import textwrap
from importlib import resources
from itertools import pairwise

import pytest
from tree_sitter import Query
from tree_sitter_language_pack import get_language

from tokenlean.indexers.chunks import (
    MAX_CHUNK_LINES,
    Chunk,
    FileChunks,
    Symbol,
    chunk_file,
    split_lines,
    supported_languages,
)


def src(text: str) -> str:
    """A source file from an indented triple-quoted string: dedented, starting at its first line."""
    return textwrap.dedent(text).lstrip("\n")


def chunk(text: str, language: str) -> FileChunks:
    return chunk_file(src(text), language)


def symbol(fc: FileChunks, name: str, kind: str | None = None) -> Symbol:
    found = [s for s in fc.symbols if s.name == name and (kind is None or s.kind == kind)]
    assert len(found) == 1, f"{name!r} ({kind}) found {len(found)} times in {fc.symbols}"
    return found[0]


def chunks_of(fc: FileChunks, name: str, kind: str | None = None) -> list[Chunk]:
    return [c for c in fc.chunks if c.symbol == name and (kind is None or c.kind == kind)]


def only_chunk(fc: FileChunks, name: str, kind: str | None = None) -> Chunk:
    found = chunks_of(fc, name, kind)
    assert len(found) == 1, f"{name!r} has {len(found)} chunks in {fc.chunks}"
    return found[0]


def spans(fc: FileChunks) -> list[tuple[int, int, str, str]]:
    return [(c.start_line, c.end_line, c.kind, c.symbol) for c in fc.chunks]


def names(fc: FileChunks) -> set[tuple[str, str, str]]:
    """(parent, name, kind) of every symbol."""
    return {(s.parent, s.name, s.kind) for s in fc.symbols}


# --------------------------------------------------------------------------------------------------
# Sample files, one per language. The per-language tests below read them; the invariants at the end
# hold for all of them.

PYTHON = src(
    '''
    """Shapes."""
    import math

    LIMIT = 10
    ratio: float = 0.5


    # Adds two numbers.
    def add(a, b=2):
        """Return a + b."""
        return a + b


    @dataclass(frozen=True)
    class Circle(Shape):
        """A circle."""

        r: float = 1.0

        def area(self, scale: int) -> float:
            return math.pi * self.r**2 * scale

        @property
        def name(self):
            def shout(s):
                return s.upper()
            return shout("circle")


    if __name__ == "__main__":
        print(add(1))
    '''
)

JAVASCRIPT = src(
    """
    import fs from "fs";

    const LIMIT = 5;

    /**
     * Adds numbers.
     */
    function add(a, b) {
      return a + b;
    }

    export default class Widget extends Base {
      onClick = (event) => {
        this.clicked = true;
      };

      constructor(el) {
        super(el);
      }

      #hide() {}
    }

    export const double = (x) => {
      return x * 2;
    };

    const api = {
      get(url) {
        return fetch(url);
      },
      post: (url) => url,
    };

    function* ids() {
      yield 1;
    }

    console.log(add(1, 2));
    """
)

TYPESCRIPT = src(
    """
    import { x } from "./x";

    export interface Shape {
      area(): number;
      name: string;
    }

    type Id = string | number;

    enum Color {
      Red,
      Green,
    }

    namespace Geo {
      export function circle(r: number): number {
        return Math.PI * r * r;
      }
    }

    /** A circle. */
    @Component({ selector: "c" })
    export class Circle implements Shape {
      private r: number;

      constructor(r: number) {
        this.r = r;
      }

      area(): number {
        return Math.PI * this.r ** 2;
      }
    }

    export abstract class Base<T> {
      abstract make(): T;
    }

    export const double = (n: number): number => n * 2;

    function overload(a: string): string;
    function overload(a: any): any {
      return a;
    }
    """
)

TSX = src(
    """
    import React, { useState } from "react";

    interface Props {
      label: string;
    }

    // A counting button.
    export function Button({ label }: Props) {
      const [n, setN] = useState(0);
      return (
        <button onClick={() => setN(n + 1)}>
          {label}: {n}
        </button>
      );
    }

    export const Card = ({ title }: { title: string }) => (
      <div className="card">
        <h1>{title}</h1>
      </div>
    );

    export default class Page extends React.Component<Props> {
      render() {
        return <Card title={this.props.label} />;
      }
    }
    """
)

GO = src(
    """
    package shapes

    import "math"

    const Pi = 3.14

    var ErrNegative = errors.New("negative radius")

    // Shape is anything with an area.
    type Shape interface {
        Area() float64
    }

    type Circle struct {
        R float64
    }

    type ID string

    // Area returns the area.
    func (c *Circle) Area() float64 {
        return math.Pi * c.R * c.R
    }

    func (c Circle) Name() string { return "circle" }

    func (s *Stack[T]) Push(v T) {
        s.items = append(s.items, v)
    }

    func New(r float64) *Circle {
        return &Circle{R: r}
    }
    """
)

RUST = src(
    """
    use std::fmt;

    pub const MAX: usize = 10;

    /// A point.
    #[derive(Debug, Clone)]
    pub struct Point {
        x: f64,
        y: f64,
    }

    pub trait Area {
        fn area(&self) -> f64;
        fn describe(&self) -> String {
            format!("{}", self.area())
        }
    }

    impl Point {
        /// Makes a point.
        pub fn new(x: f64, y: f64) -> Self {
            Point { x, y }
        }
    }

    impl<T> fmt::Display for Wrapper<T> {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "w")
        }
    }

    macro_rules! square {
        ($x:expr) => { $x * $x };
    }

    type Meters = f64;

    #[cfg(test)]
    mod tests {
        #[test]
        fn it_works() {
            assert_eq!(2, 2);
        }
    }

    fn main() {
        println!("{}", square!(2));
    }
    """
)

JAVA = src(
    """
    package com.example;

    import java.util.List;

    /**
     * A shape.
     */
    public interface Shape {
        double area();
        default String name() { return "shape"; }
    }

    @Entity
    public class Circle implements Shape {
        private static final double PI = 3.14;
        private final double r;

        public Circle(double r) {
            this.r = r;
        }

        @Override
        public double area() {
            return PI * r * r;
        }

        static class Inner {
            void run() {}
        }
    }

    enum Mode { ON, OFF }

    record Point(int x, int y) {
        int sum() { return x + y; }
    }
    """
)

C = src(
    """
    #include <stdio.h>

    #define MAX 10
    #define SQUARE(x) ((x) * (x))

    typedef struct point {
        int x;
        int y;
    } point_t;

    struct node {
        struct node *next;
    };

    enum color { RED, GREEN };

    typedef int (*cmp_fn)(const void *, const void *);

    int add(int a, int b);

    /* Adds two ints. */
    int add(int a, int b)
    {
        return a + b;
    }

    static char *name(void) {
        return "x";
    }

    int main(int argc, char **argv) {
        printf("%d\\n", add(1, 2));
        return 0;
    }
    """
)

CPP = src(
    """
    #include <vector>

    namespace geo {

    // A shape.
    class Shape {
    public:
        virtual ~Shape() = default;
        virtual double area() const = 0;
    };

    class Circle : public Shape {
    public:
        explicit Circle(double r) : r_(r) {}
        double area() const override;
        bool operator==(const Circle& o) const { return r_ == o.r_; }
    private:
        double r_;
    };

    double Circle::area() const {
        return 3.14 * r_ * r_;
    }

    template <typename T>
    T max_of(const std::vector<T>& xs) {
        return xs[0];
    }

    }  // namespace geo

    namespace a::b {
    void f() {}
    }

    using Num = double;

    int main() {
        geo::Circle c(1.0);
        return 0;
    }
    """
)

RUBY = src(
    """
    require "json"

    VERSION = "1.0"

    # Top-level helper.
    def helper(x)
      x * 2
    end

    module Shapes
      PI = 3.14

      # A circle.
      class Circle < Base
        def initialize(r)
          @r = r
        end

        def self.unit
          new(1)
        end

        def ==(other)
          r == other.r
        end
      end
    end

    class Shapes::Square
      def side
        1
      end
    end

    Point = Struct.new(:x, :y) do
      def dist
        Math.sqrt(x * x + y * y)
      end
    end

    puts helper(2)
    """
)

MARKDOWN = src(
    """
    Intro paragraph before any heading.

    # Title

    Some text.

    ## Install

    ```bash
    # not a heading
    pip install x
    ```

    Setext Section
    ==============

    Body.

    Sub Setext
    ----------

    More.

    ### Deep

    Deep text.

    # Second Top
    End.
    """
)

PHP = src(
    """
    <?php
    namespace App\\Models;

    const VERSION = "1";

    /** Doubles. */
    function helper(int $x): int {
        return $x * 2;
    }

    interface HasArea {
        public function area(): float;
    }

    trait Named {
        public function name(): string { return static::class; }
    }

    #[Attr]
    abstract class Shape implements HasArea {
        use Named;
        const SIDES = 0;

        public function __construct(float $r) {
            $this->r = $r;
        }

        abstract public function area(): float;
    }

    enum Suit: string {
        case Hearts = 'H';
        public function color(): string { return 'Red'; }
    }

    $double = fn($x) => $x * 2;
    """
)

KOTLIN = src(
    """
    package com.example

    const val MAX = 10

    /** A shape. */
    interface Shape {
        fun area(): Double
    }

    @Serializable
    data class Circle(val r: Double) : Shape {
        override fun area(): Double {
            return Math.PI * r * r
        }

        companion object {
            fun unit() = Circle(1.0)
        }
    }

    object Registry {
        fun register(s: Shape) {}
    }

    enum class Color { RED, GREEN }

    typealias Num = Double

    fun List<Int>.second(): Int = this[1]

    fun main() {
        println(Circle(1.0).area())
    }
    """
)

CSHARP = src(
    """
    using System;

    namespace Shapes
    {
        /// <summary>A shape.</summary>
        public interface IShape
        {
            double Area();
        }

        [Serializable]
        public class Circle : IShape
        {
            private const double Pi = 3.14;
            public double R { get; set; }

            public Circle(double r)
            {
                R = r;
            }

            public double Area() => Pi * R * R;
        }

        public struct Point { public int X; }

        public enum Color { Red, Green }

        public record Pair(int A, int B);
    }
    """
)

SCALA = src(
    """
    package shapes

    /** A shape. */
    trait Shape {
      def area: Double
      def name: String = "shape"
    }

    case class Circle(r: Double) extends Shape {
      override def area: Double = {
        math.Pi * r * r
      }
    }

    object Circle {
      val Unit = Circle(1.0)
      def apply(): Circle = new Circle(1.0)
    }

    enum Color {
      case Red, Green
    }

    type Num = Double

    def main(args: Array[String]): Unit =
      println(Circle(1.0).area)
    """
)

SWIFT = src(
    """
    import Foundation

    let maxCount = 10

    /// A shape.
    protocol Shape {
        func area() -> Double
    }

    class Circle: Shape {
        var r: Double

        init(r: Double) {
            self.r = r
        }

        func area() -> Double {
            return Double.pi * r * r
        }
    }

    struct Point {
        static func origin() -> Point { Point() }
    }

    enum Color {
        case red
    }

    extension Circle {
        func describe() -> String { "circle" }
    }

    func main() {
        print(Circle(r: 1).area())
    }
    """
)

LUA = src(
    """
    local M = {}

    --- Adds numbers.
    local function add(a, b)
      return a + b
    end

    function M.greet(name)
      return "hi " .. name
    end

    function M:describe()
      return "module"
    end

    M.handler = function(event)
      return event
    end

    function global_fn()
    end

    return M
    """
)

BASH = src(
    """
    #!/usr/bin/env bash
    set -euo pipefail

    readonly VERSION="1.0"

    # Prints usage.
    usage() {
      echo "usage: $0"
    }

    function build {
      make all
    }

    main() {
      usage
      build
    }

    main "$@"
    """
)

SAMPLES = {
    "python": PYTHON,
    "javascript": JAVASCRIPT,
    "typescript": TYPESCRIPT,
    "tsx": TSX,
    "go": GO,
    "rust": RUST,
    "java": JAVA,
    "c": C,
    "cpp": CPP,
    "ruby": RUBY,
    "markdown": MARKDOWN,
    "php": PHP,
    "kotlin": KOTLIN,
    "csharp": CSHARP,
    "scala": SCALA,
    "swift": SWIFT,
    "lua": LUA,
    "bash": BASH,
}


# --------------------------------------------------------------------------------------------------
# Query files


def test_every_query_file_compiles_against_its_grammar():
    queries = resources.files("tokenlean.indexers").joinpath("queries")
    for language in supported_languages():
        text = queries.joinpath(f"{language}-tags.scm").read_text()
        Query(get_language(language), text)  # raises on an unknown node type, field or syntax error


def test_supported_languages_cover_the_sampled_languages():
    assert set(SAMPLES) <= set(supported_languages())


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_sample_parses_with_definitions(language):
    fc = chunk_file(SAMPLES[language], language)
    assert fc.parsed
    assert fc.symbols
    assert any(c.kind not in ("module", "text") for c in fc.chunks)


# --------------------------------------------------------------------------------------------------
# Invariants of every parsed sample


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_chunks_are_ordered_and_do_not_overlap(language):
    fc = chunk_file(SAMPLES[language], language)
    for before, after in pairwise(fc.chunks):
        assert before.start_line <= before.end_line < after.start_line


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_chunk_text_is_exactly_its_lines(language):
    lines = split_lines(SAMPLES[language])
    for c in chunk_file(SAMPLES[language], language).chunks:
        assert c.text == "\n".join(lines[c.start_line - 1 : c.end_line])
        assert c.text.strip() and lines[c.start_line - 1].strip() and lines[c.end_line - 1].strip()


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_every_line_with_content_is_in_a_chunk(language):
    lines = split_lines(SAMPLES[language])
    covered = set()
    for c in chunk_file(SAMPLES[language], language).chunks:
        covered.update(range(c.start_line, c.end_line + 1))
    for number, line in enumerate(lines, 1):
        if re.search(r"\w", line) and line.strip() != "end":
            assert number in covered, f"line {number} {line!r} is in no chunk"


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_symbols_lie_within_the_file(language):
    n = len(split_lines(SAMPLES[language]))
    for s in chunk_file(SAMPLES[language], language).symbols:
        assert 1 <= s.start_line <= s.end_line <= n
        assert s.name and s.signature


# --------------------------------------------------------------------------------------------------
# Fallbacks and edge cases


def test_unknown_language_falls_back_to_line_windows():
    text = "\n".join(f"line {i}" for i in range(1, 121)) + "\n"
    fc = chunk_file(text, "no-such-language")
    assert not fc.parsed and fc.symbols == []
    assert {c.kind for c in fc.chunks} == {"text"}
    assert fc.chunks[0].start_line == 1 and fc.chunks[-1].end_line == 120
    for before, after in pairwise(fc.chunks):
        assert after.start_line == before.end_line + 1
    assert all(c.end_line - c.start_line + 1 <= 75 for c in fc.chunks)


def test_line_windows_break_at_blank_lines():
    paragraphs = ["\n".join(f"p{p} line {i}" for i in range(20)) for p in range(5)]
    fc = chunk_file("\n\n".join(paragraphs) + "\n", "text")
    assert len(fc.chunks) > 1
    for c in fc.chunks:
        assert c.text.split("\n")[0].endswith(" line 0")


@pytest.mark.parametrize("language", ["python", "markdown", "text", "no-such-language"])
def test_empty_file_has_no_chunks_or_symbols(language):
    fc = chunk_file("", language)
    assert fc.chunks == [] and fc.symbols == []


def test_blank_python_file_has_no_chunks():
    assert chunk_file("\n\n   \n", "python").chunks == []


def test_crlf_line_endings_give_the_same_lines_and_clean_text():
    lines = ["import os", "", "def f(a):", "    return a", "", "class A:", "    def g(self):", "        pass"]
    text = "\r\n".join(lines) + "\r\n"
    fc = chunk_file(text, "python")
    assert spans(fc)[:2] == [(1, 1, "module", ""), (3, 4, "function", "f")]
    assert only_chunk(fc, "f").text == "def f(a):\n    return a"
    assert only_chunk(fc, "f").signature == "def f(a):"
    assert symbol(fc, "g") == Symbol("g", "method", "A", "def g(self):", 7, 8)
    assert all("\r" not in c.text for c in fc.chunks)


def test_crlf_markdown_headings():
    fc = chunk_file("# Title\r\n\r\nText\r\n\r\nSub\r\n---\r\nmore\r\n", "markdown")
    assert spans(fc) == [(1, 3, "section", "Title"), (5, 7, "section", "Sub")]
    assert symbol(fc, "Sub").parent == "Title"


def test_non_ascii_identifiers_and_text_keep_their_lines():
    fc = chunk(
        """
        # Größe berechnen — ünïcödé comment
        def größe(ä: int) -> int:
            return ä * 2


        class Ünïcode:
            def 方法(self):
                return "日本語"
        """,
        "python",
    )
    assert only_chunk(fc, "größe")[:6] == (1, 3, "function", "größe", "", "def größe(ä: int) -> int:")
    assert symbol(fc, "方法") == Symbol("方法", "method", "Ünïcode", "def 方法(self):", 7, 8)
    assert symbol(fc, "Ünïcode").start_line == 6


def test_non_ascii_text_before_a_definition_does_not_shift_it():
    fc = chunk('s = "€€€€€€€€€€€€€€€€€€€€"  # ünïcödé\n# Does f.\ndef f():\n    pass\n', "python")
    assert only_chunk(fc, "f")[:2] == (2, 4)


# --------------------------------------------------------------------------------------------------
# Splitting long definitions


def long_python_function(statements: int) -> list[str]:
    lines = ["def big(n):", '    """A long function."""', "    total = 0"]
    for i in range(statements):
        lines += [f"    if n > {i}:", f"        total += {i}", "        n -= 1"]
    return [*lines, "    return total"]


def test_long_function_is_split_into_parts_of_at_most_150_lines():
    lines = long_python_function(80)  # 244 lines
    fc = chunk_file("\n".join(lines) + "\n", "python")
    parts = chunks_of(fc, "big")
    assert len(parts) >= 2
    assert all(p.end_line - p.start_line + 1 <= MAX_CHUNK_LINES for p in parts)
    assert all(p.kind == "function" and p.signature == "def big(n):" for p in parts)


def test_long_function_parts_cover_it_contiguously():
    lines = long_python_function(80)
    parts = chunks_of(chunk_file("\n".join(lines) + "\n", "python"), "big")
    assert parts[0].start_line == 1 and parts[-1].end_line == len(lines)
    for before, after in pairwise(parts):
        assert after.start_line == before.end_line + 1


def test_long_function_is_split_at_statement_boundaries():
    lines = long_python_function(80)
    parts = chunks_of(chunk_file("\n".join(lines) + "\n", "python"), "big")
    for p in parts[1:]:
        assert p.text.split("\n")[0].startswith("    if n > ")


def test_long_function_symbol_spans_the_whole_function():
    lines = long_python_function(80)
    fc = chunk_file("\n".join(lines) + "\n", "python")
    assert symbol(fc, "big")[4:] == (1, len(lines))


def test_long_go_function_is_split_at_statement_boundaries():
    # Go wraps a block's statements in a `statement_list`.
    lines = ["package p", "", "func Long(n int) int {", "    total := 0"]
    for i in range(60):
        lines += [f"    if n > {i} {{", f"        total += {i}", "    }"]
    lines += ["    return total", "}"]
    parts = chunks_of(chunk_file("\n".join(lines) + "\n", "go"), "Long")
    assert len(parts) >= 2 and parts[0].start_line == 3 and parts[-1].end_line == len(lines)
    assert parts[0].text.startswith("func Long(n int) int {")
    for before, after in pairwise(parts):
        assert after.start_line == before.end_line + 1
        assert after.text.startswith("    if n > ")
    assert all(p.end_line - p.start_line + 1 <= MAX_CHUNK_LINES for p in parts)


def test_long_arrow_function_is_split_at_statement_boundaries():
    lines = ["const long = (n) => {", "  let t = 0;"]
    for i in range(60):
        lines += [f"  if (n > {i}) {{", f"    t += {i};", "  }"]
    lines += ["  return t;", "};"]
    parts = chunks_of(chunk_file("\n".join(lines) + "\n", "javascript"), "long")
    assert len(parts) >= 2 and parts[0].start_line == 1 and parts[-1].end_line == len(lines)
    for before, after in pairwise(parts):
        assert after.start_line == before.end_line + 1
        assert after.text.startswith("  if (n > ")


def test_function_of_exactly_150_lines_stays_whole():
    lines = ["def f():", *[f"    x{i} = {i}" for i in range(149)]]
    assert len(lines) == MAX_CHUNK_LINES
    assert spans(chunk_file("\n".join(lines) + "\n", "python")) == [(1, 150, "function", "f")]


# --------------------------------------------------------------------------------------------------
# Large classes


def large_python_class() -> list[str]:
    lines = ["@register", "class Big(Base):", '    """A big class."""', "", "    x = 1", ""]
    for i in range(5):
        lines += [f"    def m{i}(self):", *[f"        a{j} = {j}" for j in range(8)], "        return a0", ""]
    return [*lines, "    y = 2"]


def test_class_over_40_lines_is_split_into_header_and_method_chunks():
    lines = large_python_class()
    assert len(lines) == 62
    fc = chunk_file("\n".join(lines) + "\n", "python")
    assert spans(fc) == [
        (1, 5, "class", "Big"),
        (7, 16, "method", "m0"),
        (18, 27, "method", "m1"),
        (29, 38, "method", "m2"),
        (40, 49, "method", "m3"),
        (51, 60, "method", "m4"),
        (62, 62, "class", "Big"),
    ]


def test_split_class_header_keeps_decorator_signature_and_docstring():
    fc = chunk_file("\n".join(large_python_class()) + "\n", "python")
    header = chunks_of(fc, "Big")[0]
    assert header.text.startswith('@register\nclass Big(Base):\n    """A big class."""')
    assert header.signature == "class Big(Base):"


def test_split_class_method_chunks_name_the_class_as_parent():
    fc = chunk_file("\n".join(large_python_class()) + "\n", "python")
    methods = [c for c in fc.chunks if c.kind == "method"]
    assert {c.parent for c in methods} == {"Big"}
    assert [c.signature for c in methods] == [f"def m{i}(self):" for i in range(5)]


def test_class_symbol_spans_the_whole_class_when_split():
    fc = chunk_file("\n".join(large_python_class()) + "\n", "python")
    assert symbol(fc, "Big")[3:] == ("class Big(Base):", 1, 62)


# --------------------------------------------------------------------------------------------------
# Python


def test_python_function_chunk_includes_leading_comment_and_docstring():
    fc = chunk_file(PYTHON, "python")
    add = only_chunk(fc, "add")
    assert (add.start_line, add.end_line, add.kind) == (8, 11, "function")
    assert add.text.startswith("# Adds two numbers.\ndef add(a, b=2):\n")


def test_python_signature_is_the_def_line():
    fc = chunk_file(PYTHON, "python")
    assert symbol(fc, "add").signature == "def add(a, b=2):"
    assert symbol(fc, "area").signature == "def area(self, scale: int) -> float:"


def test_python_decorated_class_starts_at_its_decorator():
    fc = chunk_file(PYTHON, "python")
    assert symbol(fc, "Circle") == Symbol("Circle", "class", "", "class Circle(Shape):", 14, 27)
    assert chunks_of(fc, "Circle")[0].text.startswith("@dataclass(frozen=True)\nclass Circle(Shape):")


def test_python_methods_have_the_class_as_parent():
    fc = chunk_file(PYTHON, "python")
    assert symbol(fc, "area") == Symbol(
        "area", "method", "Circle", "def area(self, scale: int) -> float:", 20, 21
    )
    # A decorated method starts at its decorator; its signature is still the def line.
    assert symbol(fc, "name")[1:] == ("method", "Circle", "def name(self):", 23, 27)


def test_python_nested_function_is_a_symbol_inside_its_function():
    fc = chunk_file(PYTHON, "python")
    assert symbol(fc, "shout") == Symbol("shout", "function", "Circle.name", "def shout(s):", 25, 26)


def test_python_nested_definitions_stay_in_the_enclosing_function_chunk():
    fc = chunk(
        """
        def outer():
            def inner():
                return 1

            class Local:
                def m(self):
                    pass
            return inner
        """,
        "python",
    )
    assert spans(fc) == [(1, 8, "function", "outer")]
    assert names(fc) == {
        ("", "outer", "function"),
        ("outer", "inner", "function"),
        ("outer", "Local", "class"),
        ("outer.Local", "m", "method"),
    }


def test_python_module_level_assignments_are_constants():
    fc = chunk_file(PYTHON, "python")
    assert symbol(fc, "LIMIT") == Symbol("LIMIT", "constant", "", "LIMIT = 10", 4, 4)
    assert symbol(fc, "ratio") == Symbol("ratio", "constant", "", "ratio: float = 0.5", 5, 5)
    assert "r" not in {s.name for s in fc.symbols}  # class attributes are not module constants


def test_python_module_level_code_is_in_module_chunks():
    fc = chunk_file(PYTHON, "python")
    assert spans(fc)[0] == (1, 5, "module", "")
    assert spans(fc)[-1] == (30, 31, "module", "")
    assert fc.chunks[-1].text == 'if __name__ == "__main__":\n    print(add(1))'


def test_python_async_function_is_a_function():
    fc = chunk("async def fetch(url):\n    return await get(url)\n", "python")
    assert spans(fc) == [(1, 2, "function", "fetch")]
    assert symbol(fc, "fetch").signature == "async def fetch(url):"


def test_python_multiline_signature_is_joined_on_one_line():
    fc = chunk(
        """
        def f(
            a: int,
            b: str = "x",
        ) -> None:
            pass
        """,
        "python",
    )
    signature = symbol(fc, "f").signature
    assert "\n" not in signature and "  " not in signature
    assert signature.startswith("def f( a: int,") and signature.endswith(") -> None:")


def test_comment_separated_by_a_blank_line_stays_out_of_the_definition():
    fc = chunk("# Section header.\n\ndef f():\n    pass\n", "python")
    assert spans(fc) == [(1, 1, "module", ""), (3, 4, "function", "f")]


def test_trailing_comment_of_a_statement_is_not_a_leading_comment():
    fc = chunk("x = 1  # note\ndef f():\n    pass\n", "python")
    assert only_chunk(fc, "f")[:2] == (2, 3)


# --------------------------------------------------------------------------------------------------
# JavaScript


def test_javascript_function_includes_its_jsdoc():
    fc = chunk_file(JAVASCRIPT, "javascript")
    assert only_chunk(fc, "add")[:6] == (5, 10, "function", "add", "", "function add(a, b)")


def test_javascript_class_members_have_the_class_as_parent():
    fc = chunk_file(JAVASCRIPT, "javascript")
    assert symbol(fc, "Widget")[1:] == ("class", "", "class Widget extends Base", 12, 22)
    assert {("Widget", "onClick", "method"), ("Widget", "constructor", "method")} <= names(fc)
    assert ("Widget", "#hide", "method") in names(fc)
    assert symbol(fc, "onClick")[4:] == (13, 15)


def test_javascript_exported_arrow_function_is_a_function():
    fc = chunk_file(JAVASCRIPT, "javascript")
    assert only_chunk(fc, "double")[:6] == (24, 26, "function", "double", "", "const double = (x) =>")


def test_javascript_object_literal_methods_belong_to_the_const():
    fc = chunk_file(JAVASCRIPT, "javascript")
    assert symbol(fc, "api")[:3] == ("api", "constant", "")
    assert symbol(fc, "get") == Symbol("get", "method", "api", "get(url)", 29, 31)
    assert symbol(fc, "post")[:3] == ("post", "method", "api")
    assert only_chunk(fc, "get")[:5] == (29, 31, "method", "get", "api")


def test_javascript_top_level_const_is_a_constant():
    fc = chunk_file(JAVASCRIPT, "javascript")
    assert symbol(fc, "LIMIT") == Symbol("LIMIT", "constant", "", "const LIMIT = 5;", 3, 3)


def test_javascript_generator_function():
    fc = chunk_file(JAVASCRIPT, "javascript")
    assert only_chunk(fc, "ids")[:6] == (35, 37, "function", "ids", "", "function* ids()")


def test_javascript_module_code_is_in_module_chunks():
    fc = chunk_file(JAVASCRIPT, "javascript")
    assert spans(fc)[0] == (1, 3, "module", "")
    assert spans(fc)[-1] == (39, 39, "module", "")


def test_javascript_const_bound_to_a_function_is_not_also_a_constant():
    fc = chunk_file(JAVASCRIPT, "javascript")
    assert [s.kind for s in fc.symbols if s.name == "double"] == ["function"]


# --------------------------------------------------------------------------------------------------
# TypeScript


def test_typescript_interface_with_member_declarations():
    fc = chunk_file(TYPESCRIPT, "typescript")
    assert symbol(fc, "Shape") == Symbol("Shape", "interface", "", "interface Shape", 3, 6)
    assert symbol(fc, "area", "declaration") == Symbol("area", "declaration", "Shape", "area(): number", 4, 4)
    assert only_chunk(fc, "Shape")[:3] == (3, 6, "interface")


def test_typescript_type_alias_and_enum():
    fc = chunk_file(TYPESCRIPT, "typescript")
    assert symbol(fc, "Id") == Symbol("Id", "type", "", "type Id = string | number;", 8, 8)
    assert only_chunk(fc, "Color")[:3] == (10, 13, "enum")


def test_typescript_namespace_is_the_parent_of_its_functions():
    fc = chunk_file(TYPESCRIPT, "typescript")
    assert symbol(fc, "Geo")[1:] == ("namespace", "", "namespace Geo", 15, 19)
    assert symbol(fc, "circle")[:3] == ("circle", "function", "Geo")


def test_typescript_decorator_and_doc_comment_belong_to_the_class():
    fc = chunk_file(TYPESCRIPT, "typescript")
    assert symbol(fc, "Circle") == Symbol("Circle", "class", "", "class Circle implements Shape", 21, 33)
    assert chunks_of(fc, "Circle")[0].text.startswith('/** A circle. */\n@Component({ selector: "c" })')


def test_typescript_methods_have_the_class_as_parent():
    fc = chunk_file(TYPESCRIPT, "typescript")
    assert symbol(fc, "area", "method") == Symbol("area", "method", "Circle", "area(): number", 30, 32)
    assert symbol(fc, "constructor")[:3] == ("constructor", "method", "Circle")


def test_typescript_abstract_class_and_abstract_method():
    fc = chunk_file(TYPESCRIPT, "typescript")
    assert symbol(fc, "Base")[1:4] == ("class", "", "abstract class Base<T>")
    assert symbol(fc, "make")[:3] == ("make", "declaration", "Base")


def test_typescript_exported_const_arrow_function_signature_keeps_const():
    fc = chunk_file(TYPESCRIPT, "typescript")
    assert symbol(fc, "double") == Symbol(
        "double", "function", "", "const double = (n: number): number => n * 2;", 39, 39
    )


def test_typescript_overload_signatures_are_declarations():
    fc = chunk_file(TYPESCRIPT, "typescript")
    kinds = [(s.kind, s.start_line) for s in fc.symbols if s.name == "overload"]
    assert kinds == [("declaration", 41), ("function", 42)]
    assert only_chunk(fc, "overload")[:3] == (42, 44, "function")


# --------------------------------------------------------------------------------------------------
# TSX


def test_tsx_function_component_spans_its_jsx():
    fc = chunk_file(TSX, "tsx")
    button = only_chunk(fc, "Button")
    assert button[:6] == (7, 15, "function", "Button", "", "function Button({ label }: Props)")
    assert button.text.startswith("// A counting button.\n")
    assert "</button>" in button.text


def test_tsx_arrow_component_returning_jsx():
    fc = chunk_file(TSX, "tsx")
    card = only_chunk(fc, "Card")
    assert card[:4] == (17, 21, "function", "Card")
    assert card.signature.startswith("const Card = ({ title }: { title: string }) =>")
    assert card.text.endswith("</div>\n);")


def test_tsx_class_component_render_method():
    fc = chunk_file(TSX, "tsx")
    assert symbol(fc, "Page")[1:] == ("class", "", "class Page extends React.Component<Props>", 23, 27)
    assert symbol(fc, "render") == Symbol("render", "method", "Page", "render()", 24, 26)


def test_tsx_interface():
    fc = chunk_file(TSX, "tsx")
    assert only_chunk(fc, "Props")[:3] == (3, 5, "interface")


# --------------------------------------------------------------------------------------------------
# Go


def test_go_method_parent_is_its_receiver_type():
    fc = chunk_file(GO, "go")
    area = only_chunk(fc, "Area")
    assert area[:5] == (20, 23, "method", "Area", "Circle")
    assert area.signature == "func (c *Circle) Area() float64"
    assert symbol(fc, "Name")[:3] == ("Name", "method", "Circle")  # value receiver
    assert symbol(fc, "Push")[:3] == ("Push", "method", "Stack")  # generic receiver


def test_go_method_chunk_includes_its_doc_comment():
    fc = chunk_file(GO, "go")
    assert only_chunk(fc, "Area").text.startswith("// Area returns the area.\nfunc (c *Circle) Area()")


def test_go_function():
    fc = chunk_file(GO, "go")
    assert only_chunk(fc, "New")[:6] == (31, 33, "function", "New", "", "func New(r float64) *Circle")


def test_go_struct_and_interface_types():
    fc = chunk_file(GO, "go")
    assert only_chunk(fc, "Shape")[:6] == (9, 12, "interface", "Shape", "", "type Shape interface")
    assert only_chunk(fc, "Circle")[:6] == (14, 16, "struct", "Circle", "", "type Circle struct")
    assert symbol(fc, "ID") == Symbol("ID", "type", "", "type ID string", 18, 18)


def test_go_interface_methods_are_declarations():
    fc = chunk_file(GO, "go")
    assert symbol(fc, "Area", "declaration") == Symbol(
        "Area", "declaration", "Shape", "Area() float64", 11, 11
    )


def test_go_package_level_const_and_var_are_constants():
    fc = chunk_file(GO, "go")
    assert symbol(fc, "Pi") == Symbol("Pi", "constant", "", "const Pi = 3.14", 5, 5)
    assert symbol(fc, "ErrNegative")[1:3] == ("constant", "")
    assert spans(fc)[0] == (1, 7, "module", "")


def test_go_grouped_declarations():
    fc = chunk(
        """
        package p

        const (
            A = 1
            B = 2
        )

        type (
            Pair struct{ A, B int }
            Namer interface{ Name() string }
        )
        """,
        "go",
    )
    assert names(fc) >= {("", "A", "constant"), ("", "B", "constant")}
    assert only_chunk(fc, "Pair")[:3] == (9, 9, "struct")
    assert only_chunk(fc, "Namer")[:3] == (10, 10, "interface")


# --------------------------------------------------------------------------------------------------
# Rust


def test_rust_struct_includes_doc_comment_and_attributes():
    fc = chunk_file(RUST, "rust")
    point = only_chunk(fc, "Point", "struct")
    assert point[:6] == (5, 10, "struct", "Point", "", "pub struct Point")
    assert point.text.startswith("/// A point.\n#[derive(Debug, Clone)]\npub struct Point {")


def test_rust_impl_methods_have_the_type_as_parent():
    fc = chunk_file(RUST, "rust")
    assert symbol(fc, "Point", "impl") == Symbol("Point", "impl", "", "impl Point", 19, 24)
    assert symbol(fc, "new") == Symbol("new", "method", "Point", "pub fn new(x: f64, y: f64) -> Self", 20, 23)


def test_rust_trait_impl_is_named_for_the_implementing_type():
    fc = chunk_file(RUST, "rust")
    assert symbol(fc, "Wrapper")[1:4] == ("impl", "", "impl<T> fmt::Display for Wrapper<T>")
    assert symbol(fc, "fmt")[:3] == ("fmt", "method", "Wrapper")


def test_rust_trait_with_required_and_provided_methods():
    fc = chunk_file(RUST, "rust")
    assert symbol(fc, "Area")[1:] == ("trait", "", "pub trait Area", 12, 17)
    assert symbol(fc, "area") == Symbol("area", "declaration", "Area", "fn area(&self) -> f64;", 13, 13)
    assert symbol(fc, "describe")[:3] == ("describe", "method", "Area")


def test_rust_macro_type_and_const():
    fc = chunk_file(RUST, "rust")
    assert only_chunk(fc, "square")[:6] == (32, 34, "macro", "square", "", "macro_rules! square")
    assert symbol(fc, "Meters") == Symbol("Meters", "type", "", "type Meters = f64;", 36, 36)
    assert symbol(fc, "MAX") == Symbol("MAX", "constant", "", "pub const MAX: usize = 10;", 3, 3)


def test_rust_module_with_attributes_holds_its_functions():
    fc = chunk_file(RUST, "rust")
    assert symbol(fc, "tests")[1:] == ("module", "", "mod tests", 38, 44)
    assert symbol(fc, "it_works")[:3] == ("it_works", "function", "tests")
    assert symbol(fc, "it_works")[4] == 40  # starts at its #[test]


def test_rust_function():
    fc = chunk_file(RUST, "rust")
    assert only_chunk(fc, "main")[:6] == (46, 48, "function", "main", "", "fn main()")


# --------------------------------------------------------------------------------------------------
# Java


def test_java_interface_with_javadoc():
    fc = chunk_file(JAVA, "java")
    assert symbol(fc, "Shape") == Symbol("Shape", "interface", "", "public interface Shape", 5, 11)
    assert chunks_of(fc, "Shape")[0].text.startswith("/**\n * A shape.\n */\npublic interface Shape {")


def test_java_abstract_interface_method_is_a_declaration():
    fc = chunk_file(JAVA, "java")
    assert symbol(fc, "area", "declaration") == Symbol("area", "declaration", "Shape", "double area();", 9, 9)
    assert symbol(fc, "name")[:3] == ("name", "method", "Shape")  # a default method has a body


def test_java_class_with_annotation_constructor_and_methods():
    fc = chunk_file(JAVA, "java")
    assert symbol(fc, "Circle", "class")[3:] == ("@Entity public class Circle implements Shape", 13, 30)
    assert symbol(fc, "Circle", "method")[2:] == ("Circle", "public Circle(double r)", 18, 20)
    assert symbol(fc, "area", "method")[2:] == ("Circle", "@Override public double area()", 22, 25)


def test_java_annotation_belongs_to_the_method_chunk():
    fc = chunk_file(JAVA, "java")
    holder = [c for c in fc.chunks if c.start_line <= 22 <= c.end_line]
    assert len(holder) == 1 and holder[0].end_line >= 25


def test_java_nested_class_method_has_qualified_parent():
    fc = chunk_file(JAVA, "java")
    assert symbol(fc, "Inner")[:3] == ("Inner", "class", "Circle")
    assert symbol(fc, "run")[:3] == ("run", "method", "Circle.Inner")


def test_java_static_final_field_is_a_constant():
    fc = chunk_file(JAVA, "java")
    assert symbol(fc, "PI")[:3] == ("PI", "constant", "Circle")
    assert "r" not in {s.name for s in fc.symbols}


def test_java_enum_and_record():
    fc = chunk_file(JAVA, "java")
    assert only_chunk(fc, "Mode")[:3] == (32, 32, "enum")
    assert symbol(fc, "Point")[1:] == ("class", "", "record Point(int x, int y)", 34, 36)
    assert symbol(fc, "sum")[:3] == ("sum", "method", "Point")


# --------------------------------------------------------------------------------------------------
# C


def test_c_function_definition_with_leading_comment():
    fc = chunk_file(C, "c")
    add = only_chunk(fc, "add")
    assert add[:6] == (21, 25, "function", "add", "", "int add(int a, int b)")
    assert add.text.startswith("/* Adds two ints. */\nint add(int a, int b)\n{")


def test_c_prototype_is_a_declaration():
    fc = chunk_file(C, "c")
    assert symbol(fc, "add", "declaration") == Symbol(
        "add", "declaration", "", "int add(int a, int b);", 19, 19
    )


def test_c_pointer_returning_function():
    fc = chunk_file(C, "c")
    assert only_chunk(fc, "name")[:6] == (27, 29, "function", "name", "", "static char *name(void)")


def test_c_typedef_struct_is_named_for_its_typedef():
    fc = chunk_file(C, "c")
    assert symbol(fc, "point_t") == Symbol("point_t", "struct", "", "typedef struct point", 6, 9)
    assert symbol(fc, "point")[1:3] == ("struct", "point_t")
    assert [c[:3] for c in fc.chunks if c.start_line == 6] == [(6, 9, "struct")]


def test_c_struct_enum_and_function_pointer_typedef():
    fc = chunk_file(C, "c")
    assert only_chunk(fc, "node")[:4] == (11, 13, "struct", "node")
    assert only_chunk(fc, "color")[:4] == (15, 15, "enum", "color")
    assert symbol(fc, "cmp_fn")[1:3] == ("type", "")


def test_c_macros():
    fc = chunk_file(C, "c")
    assert symbol(fc, "MAX") == Symbol("MAX", "constant", "", "#define MAX 10", 3, 3)
    assert only_chunk(fc, "SQUARE")[:4] == (4, 4, "macro", "SQUARE")


def test_c_typedef_of_anonymous_struct():
    fc = chunk("typedef struct {\n    int a;\n} anon_t;\n", "c")
    assert spans(fc) == [(1, 3, "struct", "anon_t")]


# --------------------------------------------------------------------------------------------------
# C++


def test_cpp_out_of_class_method_has_its_class_as_parent():
    fc = chunk("double Circle::area() const {\n    return 3.14 * r_ * r_;\n}\n", "cpp")
    assert spans(fc) == [(1, 3, "method", "area")]
    assert fc.chunks[0][4:6] == ("Circle", "double Circle::area() const")


def test_cpp_out_of_class_method_in_a_namespace_has_the_qualified_class_as_parent():
    fc = chunk_file(CPP, "cpp")
    assert symbol(fc, "area", "method") == Symbol(
        "area", "method", "geo.Circle", "double Circle::area() const", 21, 23
    )


def test_cpp_namespace_is_the_parent_of_its_classes():
    fc = chunk_file(CPP, "cpp")
    assert symbol(fc, "geo")[1:] == ("namespace", "", "namespace geo", 3, 30)
    assert symbol(fc, "Shape")[:3] == ("Shape", "class", "geo")
    assert symbol(fc, "Circle", "class")[1:] == ("class", "geo", "class Circle : public Shape", 12, 19)


def test_cpp_class_members():
    fc = chunk_file(CPP, "cpp")
    assert names(fc) >= {
        ("geo.Shape", "~Shape", "method"),
        ("geo.Shape", "area", "declaration"),
        ("geo.Circle", "Circle", "method"),
        ("geo.Circle", "area", "declaration"),
        ("geo.Circle", "operator==", "method"),
    }


def test_cpp_class_includes_leading_comment():
    fc = chunk_file(CPP, "cpp")
    assert symbol(fc, "Shape")[4:] == (5, 10)


def test_cpp_template_function_includes_the_template_line():
    fc = chunk_file(CPP, "cpp")
    assert symbol(fc, "max_of") == Symbol(
        "max_of", "function", "geo", "T max_of(const std::vector<T>& xs)", 25, 28
    )


def test_cpp_template_class_chunk_starts_at_the_template_line():
    fc = chunk("template <typename T>\nstruct Box {\n    T value;\n};\n", "cpp")
    assert spans(fc) == [(1, 4, "struct", "Box")]


def test_cpp_nested_namespace_name():
    fc = chunk_file(CPP, "cpp")
    assert symbol(fc, "b")[1:3] == ("namespace", "a")
    assert symbol(fc, "f")[:3] == ("f", "function", "a.b")


def test_cpp_alias_and_free_function():
    fc = chunk_file(CPP, "cpp")
    assert symbol(fc, "Num") == Symbol("Num", "type", "", "using Num = double;", 36, 36)
    assert only_chunk(fc, "main")[:6] == (38, 41, "function", "main", "", "int main()")


def test_cpp_qualified_constructor_destructor_and_operator():
    fc = chunk(
        """
        Circle::Circle(double r) : r_(r) {}
        Circle::~Circle() {}
        Circle& Circle::operator=(const Circle& o) { return *this; }
        const std::string& Circle::name() const { return name_; }
        """,
        "cpp",
    )
    assert [(s.parent, s.name, s.kind) for s in fc.symbols] == [
        ("Circle", "Circle", "method"),
        ("Circle", "~Circle", "method"),
        ("Circle", "operator=", "method"),
        ("Circle", "name", "method"),
    ]


# --------------------------------------------------------------------------------------------------
# Ruby


def test_ruby_top_level_def_is_a_function_with_its_comment():
    fc = chunk_file(RUBY, "ruby")
    assert only_chunk(fc, "helper")[:6] == (5, 8, "function", "helper", "", "def helper(x)")


def test_ruby_module_and_nested_class():
    fc = chunk_file(RUBY, "ruby")
    assert symbol(fc, "Shapes")[1:] == ("module", "", "module Shapes", 10, 27)
    assert symbol(fc, "Circle") == Symbol("Circle", "class", "Shapes", "class Circle < Base", 13, 26)


def test_ruby_methods_have_qualified_parents():
    fc = chunk_file(RUBY, "ruby")
    assert symbol(fc, "initialize") == Symbol(
        "initialize", "method", "Shapes.Circle", "def initialize(r)", 15, 17
    )
    assert symbol(fc, "unit")[1:4] == ("method", "Shapes.Circle", "def self.unit")
    assert symbol(fc, "==")[1:4] == ("method", "Shapes.Circle", "def ==(other)")


def test_ruby_scoped_class_name():
    fc = chunk_file(RUBY, "ruby")
    assert symbol(fc, "Square")[1:3] == ("class", "Shapes")
    assert symbol(fc, "side")[:3] == ("side", "method", "Shapes.Square")


def test_ruby_struct_new_with_block_is_a_class():
    fc = chunk_file(RUBY, "ruby")
    assert symbol(fc, "Point")[1:] == ("class", "", "Point = Struct.new(:x, :y) do", 35, 39)
    assert symbol(fc, "dist")[:3] == ("dist", "method", "Point")


def test_ruby_constants():
    fc = chunk_file(RUBY, "ruby")
    assert symbol(fc, "VERSION") == Symbol("VERSION", "constant", "", 'VERSION = "1.0"', 3, 3)
    assert symbol(fc, "PI")[:3] == ("PI", "constant", "Shapes")


def test_ruby_module_code():
    fc = chunk_file(RUBY, "ruby")
    assert spans(fc)[0] == (1, 3, "module", "")
    assert fc.chunks[-1].text == "puts helper(2)"


# --------------------------------------------------------------------------------------------------
# Markdown


def test_markdown_text_before_the_first_heading():
    fc = chunk_file(MARKDOWN, "markdown")
    assert fc.parsed
    assert spans(fc)[0] == (1, 1, "text", "")


def test_markdown_atx_and_setext_headings_make_sections():
    fc = chunk_file(MARKDOWN, "markdown")
    assert spans(fc) == [
        (1, 1, "text", ""),
        (3, 5, "section", "Title"),
        (7, 12, "section", "Install"),
        (14, 17, "section", "Setext Section"),
        (19, 22, "section", "Sub Setext"),
        (24, 26, "section", "Deep"),
        (28, 29, "section", "Second Top"),
    ]


def test_markdown_fenced_code_lines_starting_with_hash_are_not_headings():
    fc = chunk_file(MARKDOWN, "markdown")
    assert "not a heading" not in {s.name for s in fc.symbols}
    assert "# not a heading" in only_chunk(fc, "Install").text


def test_markdown_heading_levels_and_parents():
    fc = chunk_file(MARKDOWN, "markdown")
    assert [(s.name, s.signature, s.parent) for s in fc.symbols] == [
        ("Title", "# Title", ""),
        ("Install", "## Install", "Title"),
        ("Setext Section", "# Setext Section", ""),
        ("Sub Setext", "## Sub Setext", "Setext Section"),
        ("Deep", "### Deep", "Setext Section > Sub Setext"),
        ("Second Top", "# Second Top", ""),
    ]


def test_markdown_section_symbol_spans_its_subsections():
    fc = chunk_file(MARKDOWN, "markdown")
    assert symbol(fc, "Title")[4:] == (3, 13)
    assert symbol(fc, "Setext Section")[4:] == (14, 27)
    assert symbol(fc, "Second Top")[4:] == (28, 29)


def test_markdown_without_headings_is_text():
    fc = chunk_file("Just a paragraph.\n\nAnother one.\n", "markdown")
    assert spans(fc) == [(1, 3, "text", "")]
    assert fc.symbols == []


# --------------------------------------------------------------------------------------------------
# PHP


def test_php_function_with_doc_comment():
    fc = chunk_file(PHP, "php")
    assert only_chunk(fc, "helper")[:6] == (6, 9, "function", "helper", "", "function helper(int $x): int")


def test_php_class_interface_trait_and_enum():
    fc = chunk_file(PHP, "php")
    assert symbol(fc, "HasArea")[1:3] == ("interface", "")
    assert symbol(fc, "Named")[1:3] == ("trait", "")
    assert symbol(fc, "Shape") == Symbol(
        "Shape", "class", "", "#[Attr] abstract class Shape implements HasArea", 19, 29
    )
    assert symbol(fc, "Suit")[1:3] == ("enum", "")


def test_php_methods_and_abstract_declarations():
    fc = chunk_file(PHP, "php")
    assert symbol(fc, "__construct")[1:5] == ("method", "Shape", "public function __construct(float $r)", 24)
    assert ("HasArea", "area", "declaration") in names(fc)
    assert ("Shape", "area", "declaration") in names(fc)
    assert ("Named", "name", "method") in names(fc)
    assert ("Suit", "color", "method") in names(fc)


def test_php_constants_and_closures():
    fc = chunk_file(PHP, "php")
    assert symbol(fc, "VERSION")[1:3] == ("constant", "")
    assert symbol(fc, "SIDES")[1:3] == ("constant", "Shape")
    assert only_chunk(fc, "double")[:3] == (36, 36, "function")


def test_php_braced_namespace_encloses_its_definitions():
    fc = chunk("<?php\nnamespace App {\n    function f() {}\n}\n", "php")
    assert symbol(fc, "App")[1:3] == ("namespace", "")
    assert symbol(fc, "f")[:3] == ("f", "function", "App")


# --------------------------------------------------------------------------------------------------
# Kotlin


def test_kotlin_interface_class_object_and_enum():
    fc = chunk_file(KOTLIN, "kotlin")
    assert symbol(fc, "Shape") == Symbol("Shape", "interface", "", "interface Shape", 5, 8)
    assert symbol(fc, "Circle")[1:] == (
        "class",
        "",
        "@Serializable data class Circle(val r: Double) : Shape",
        10,
        19,
    )
    assert symbol(fc, "Registry")[1:3] == ("class", "")
    assert symbol(fc, "Color")[1:3] == ("enum", "")


def test_kotlin_methods_and_abstract_functions():
    fc = chunk_file(KOTLIN, "kotlin")
    assert symbol(fc, "area", "method")[2:] == ("Circle", "override fun area(): Double", 12, 14)
    assert symbol(fc, "area", "declaration")[2:] == ("Shape", "fun area(): Double", 7, 7)
    assert symbol(fc, "unit")[:4] == ("unit", "method", "Circle", "fun unit()")  # in a companion object
    assert symbol(fc, "register")[:3] == ("register", "method", "Registry")


def test_kotlin_extension_function_parent_is_the_receiver_type():
    fc = chunk_file(KOTLIN, "kotlin")
    assert symbol(fc, "second")[:3] == ("second", "method", "List")


def test_kotlin_top_level_function_constant_and_alias():
    fc = chunk_file(KOTLIN, "kotlin")
    assert only_chunk(fc, "main")[:6] == (31, 33, "function", "main", "", "fun main()")
    assert symbol(fc, "MAX") == Symbol("MAX", "constant", "", "const val MAX = 10", 3, 3)
    assert symbol(fc, "Num")[1:3] == ("type", "")


# --------------------------------------------------------------------------------------------------
# C#


def test_csharp_namespace_holds_types():
    fc = chunk_file(CSHARP, "csharp")
    assert symbol(fc, "Shapes")[1:] == ("namespace", "", "namespace Shapes", 3, 30)
    assert symbol(fc, "IShape") == Symbol("IShape", "interface", "Shapes", "public interface IShape", 5, 9)
    assert symbol(fc, "Point")[1:3] == ("struct", "Shapes")
    assert symbol(fc, "Color")[1:3] == ("enum", "Shapes")
    assert symbol(fc, "Pair")[1:3] == ("class", "Shapes")


def test_csharp_class_with_attribute_constructor_methods_and_members():
    fc = chunk_file(CSHARP, "csharp")
    assert symbol(fc, "Circle", "class")[3:] == ("[Serializable] public class Circle : IShape", 11, 23)
    assert symbol(fc, "Circle", "method")[2:] == ("Shapes.Circle", "public Circle(double r)", 17, 20)
    assert symbol(fc, "Area", "method")[2:4] == ("Shapes.Circle", "public double Area()")
    assert symbol(fc, "Area", "declaration")[2] == "Shapes.IShape"
    assert symbol(fc, "Pi")[1:3] == ("constant", "Shapes.Circle")
    assert symbol(fc, "R")[1:3] == ("declaration", "Shapes.Circle")


def test_csharp_doc_comment_belongs_to_the_interface():
    fc = chunk(
        """
        /// <summary>A shape.</summary>
        public interface IShape
        {
            double Area();
        }
        """,
        "csharp",
    )
    assert spans(fc) == [(1, 5, "interface", "IShape")]


# --------------------------------------------------------------------------------------------------
# Scala


def test_scala_trait_class_object_and_enum():
    fc = chunk_file(SCALA, "scala")
    assert symbol(fc, "Shape") == Symbol("Shape", "trait", "", "trait Shape", 3, 7)
    assert [s[1:] for s in fc.symbols if s.name == "Circle"] == [
        ("class", "", "case class Circle(r: Double) extends Shape", 9, 13),
        ("class", "", "object Circle", 15, 18),  # the companion object
    ]
    assert symbol(fc, "Color")[1:3] == ("enum", "")
    assert symbol(fc, "Num")[1:3] == ("type", "")


def test_scala_methods_and_abstract_declarations():
    fc = chunk_file(SCALA, "scala")
    assert symbol(fc, "area", "declaration")[2:4] == ("Shape", "def area: Double")
    assert symbol(fc, "area", "method") == Symbol(
        "area", "method", "Circle", "override def area: Double", 10, 12
    )
    assert symbol(fc, "apply")[:4] == ("apply", "method", "Circle", "def apply(): Circle")
    assert symbol(fc, "Unit")[1:3] == ("constant", "Circle")


def test_scala_top_level_function_with_indented_body():
    fc = chunk_file(SCALA, "scala")
    main = only_chunk(fc, "main")
    assert main[:4] == (26, 27, "function", "main")
    assert main.signature == "def main(args: Array[String]): Unit"


# --------------------------------------------------------------------------------------------------
# Swift


def test_swift_protocol_class_struct_enum_and_extension():
    fc = chunk_file(SWIFT, "swift")
    assert symbol(fc, "Shape") == Symbol("Shape", "interface", "", "protocol Shape", 5, 8)
    assert symbol(fc, "Circle", "class")[1:] == ("class", "", "class Circle: Shape", 10, 20)
    assert symbol(fc, "Point")[1:3] == ("struct", "")
    assert symbol(fc, "Color")[1:3] == ("enum", "")
    assert symbol(fc, "Circle", "impl")[1:] == ("impl", "", "extension Circle", 30, 32)


def test_swift_methods_initializers_and_protocol_requirements():
    fc = chunk_file(SWIFT, "swift")
    assert symbol(fc, "init") == Symbol("init", "method", "Circle", "init(r: Double)", 13, 15)
    assert symbol(fc, "area", "method")[2:] == ("Circle", "func area() -> Double", 17, 19)
    assert symbol(fc, "area", "declaration")[2] == "Shape"
    assert symbol(fc, "origin")[:3] == ("origin", "method", "Point")
    assert symbol(fc, "describe")[:3] == ("describe", "method", "Circle")


def test_swift_top_level_function_and_constant():
    fc = chunk_file(SWIFT, "swift")
    assert only_chunk(fc, "main")[:6] == (34, 36, "function", "main", "", "func main()")
    assert symbol(fc, "maxCount") == Symbol("maxCount", "constant", "", "let maxCount = 10", 3, 3)


# --------------------------------------------------------------------------------------------------
# Lua


def test_lua_local_function_with_comment():
    fc = chunk_file(LUA, "lua")
    assert only_chunk(fc, "add")[:6] == (3, 6, "function", "add", "", "local function add(a, b)")


def test_lua_table_functions_have_the_table_as_parent():
    fc = chunk_file(LUA, "lua")
    assert only_chunk(fc, "greet")[:6] == (8, 10, "method", "greet", "M", "function M.greet(name)")
    assert symbol(fc, "describe")[:4] == ("describe", "method", "M", "function M:describe()")
    assert symbol(fc, "handler")[:4] == ("handler", "method", "M", "M.handler = function(event)")


def test_lua_global_function_and_module_code():
    fc = chunk_file(LUA, "lua")
    assert only_chunk(fc, "global_fn")[:4] == (20, 21, "function", "global_fn")
    assert spans(fc)[0] == (1, 1, "module", "")
    assert spans(fc)[-1] == (23, 23, "module", "")


# --------------------------------------------------------------------------------------------------
# Bash


def test_bash_functions_in_both_syntaxes():
    fc = chunk_file(BASH, "bash")
    assert only_chunk(fc, "usage")[:6] == (6, 9, "function", "usage", "", "usage()")
    assert only_chunk(fc, "build")[:6] == (11, 13, "function", "build", "", "function build")
    assert only_chunk(fc, "main")[:4] == (15, 18, "function", "main")


def test_bash_top_level_variables_and_commands():
    fc = chunk_file(BASH, "bash")
    assert symbol(fc, "VERSION")[1:3] == ("constant", "")
    assert spans(fc)[0] == (1, 4, "module", "")
    assert fc.chunks[-1].text == 'main "$@"'
