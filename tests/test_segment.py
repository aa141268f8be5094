"""Segmentation: every language's files cut into the units a person expects, byte for byte.

Per language: hand-written samples with asserted outlines (kind, name, nesting), the edge
cases of DESIGN.md's round-trip invariant (CRLF, BOM, tabs, no final newline, non-ASCII,
empty files, files that do not parse), a hypothesis property over sources composed from
snippet pools, and the Python standard library as a corpus.
"""

from __future__ import annotations

import dataclasses
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crdtspace.model.languages import profile_for, profiles
from crdtspace.model.segment import TEXT_KIND, Seg, segment_file, segment_module

Outline = list[Any]

EXTENSION = {
    "python": "py",
    "javascript": "js",
    "typescript": "ts",
    "tsx": "tsx",
    "go": "go",
    "rust": "rs",
    "java": "java",
}


def outline(seg: Seg) -> Outline:
    """(kind, name) per unit; a container's children follow as a third item."""
    out: Outline = []
    for child in seg.children:
        if child.is_container:
            out.append((child.kind, child.name, outline(child)))
        else:
            out.append((child.kind, child.name))
    return out


def top(seg: Seg) -> list[tuple[str, str]]:
    return [(c.kind, c.name) for c in seg.children]


def cut(path: str, text: str) -> Seg:
    """Segment a file that must parse: structured, and rendering back to the same text."""
    result = segment_file(path, text)
    assert result.root.render() == text
    assert result.fallback_reason is None, result.fallback_reason
    assert result.root.is_container
    return result.root


def leaves(seg: Seg) -> list[Seg]:
    out: list[Seg] = []
    for child in seg.children:
        out.extend(leaves(child) if child.is_container else [child])
    return out


def find(seg: Seg, *names: str, kind: str | None = None) -> Seg:
    """The unit reached by following names down from `seg` (of `kind`, at the end)."""
    for i, name in enumerate(names):
        matches = [c for c in seg.children if c.name == name]
        if kind is not None and i == len(names) - 1:
            matches = [c for c in matches if c.kind == kind]
        assert len(matches) == 1, f"{name!r} among {[c.name for c in seg.children]}"
        seg = matches[0]
    return seg


# =========================================================================================
# Hand-written samples, one per language, with the outline a person expects
# =========================================================================================

PYTHON = '''"""Module doc."""

import os

LIMIT = 10


# a helper
@cache
def helper(x):
    return x


class Box(Base):
    """A box."""

    size = 3

    def __init__(self):
        self.items = []

    @property
    def count(self):
        return len(self.items)
'''

JAVASCRIPT = """#!/usr/bin/env node
'use strict';
import fs from "node:fs";

/** Adds. */
export function add(a, b) {
  return a + b;
}

function* ids() { yield 1; }

const double = (x) => x * 2, triple = (x) => x * 3;
let counter = 0;
var legacy;

export default class Shape extends Base {
  static count = 0;
  #secret = "s";

  constructor(name) {
    super();
    this.name = name;
  }

  // the area
  get area() { return 0; }
  set area(v) {}

  @logged
  async *walk() {}

  [Symbol.iterator]() {}
}

export const VERSION = "1.0";
export { add as plus };
module.exports.helper = function () {};
Shape.prototype.describe = function () { return this.name; };
main();
"""

TYPESCRIPT = """import { Injectable } from "@angular/core";

export interface Point<T = number> {
  x: T;
  y: T,
  label?: string;
  move(dx: number, dy: number): Point<T>;
  get length(): number;
  [key: string]: unknown;
  (scale: number): Point<T>;
}

type Pair = [number, number];
export type Id = string | number;
enum Color { Red, Green = "g" }
export const enum Flags { A = 1 }

@Injectable()
export class Service<T> implements Api {
  private cache = new Map<string, T>();
  static readonly VERSION: string = "1";

  constructor(private readonly http: Http) {}

  @Input() name!: string;

  @HostListener("click")
  onClick(): void {}

  fetch(id: string): Promise<T>;
  fetch(id: number): Promise<T>;
  fetch(id: any): Promise<T> { return this.http.get(id); }
}

export abstract class Repo {
  abstract find(id: Id): Promise<unknown>;
  protected log(msg: string) {}
}

export namespace Geometry {
  export const ORIGIN = 0;
  export function distance(a: Point, b: Point): number { return 0; }
}

declare module "left-pad" {
  export default function leftPad(s: string, n: number): string;
}

declare global {
  interface Window { app: unknown }
}

declare function greet(name: string): void;
export declare const config: Record<string, string>;
export function overloaded(a: string): string;
export function overloaded(a: any): any { return a; }
export default Service;
"""

TSX = """import React, { useState } from "react";

interface Props {
  title: string;
  onClose?: () => void;
}

export function Dialog({ title, onClose }: Props) {
  const [open, setOpen] = useState<boolean>(true);
  return (
    <div className="dialog" onClick={() => setOpen(!open)}>
      <h1>{title}</h1>
      {open && <button onClick={onClose}>✕</button>}
    </div>
  );
}

export const Badge = ({ n }: { n: number }) => <span>{n}</span>;

export default class Panel extends React.Component<Props> {
  state = { open: false };
  render() {
    return <section>{this.props.title}</section>;
  }
}
"""

GO = """// Package server serves.
package server

import (
	"fmt"
	"net/http"
)

import "os"

const Version = "1.0"

const (
	// Red is red.
	Red Color = iota
	Green
	Blue // trailing
)

var (
	mu      sync.Mutex
	a, b    int
)

var debug = os.Getenv("DEBUG") != ""

type Color int

type (
	Handler func(w http.ResponseWriter)
	Alias   = string
)

// Server is a server.
type Server struct {
	Addr string
}

type List[T any] struct{ items []T }

func New(addr string) *Server {
	return &Server{Addr: addr}
}

// Start starts.
func (s *Server) Start() error {
	return http.ListenAndServe(s.Addr, nil)
}

func (s Server) String() string { return fmt.Sprint(s.Addr) }

func (l *List[T]) Push(v T) { l.items = append(l.items, v) }

func (List[T]) Len() int { return 0 }

func Map[T, U any](xs []T, f func(T) U) []U { return nil }
"""

RUST = """#![allow(dead_code)]
//! Shapes.

use std::fmt::{self, Display};
extern crate alloc;

/// A point.
#[derive(Debug, Clone)]
pub struct Point {
    x: i32,
    y: i32,
}

struct Marker;

pub enum Shape {
    Circle(f64),
    Square { side: f64 },
}

pub trait Area {
    const UNIT: &'static str;
    type Output;
    fn area(&self) -> f64;
    fn describe(&self) -> String {
        format!("{}", self.area())
    }
}

impl Point {
    pub const ORIGIN: Point = Point { x: 0, y: 0 };

    #[inline]
    pub fn new(x: i32, y: i32) -> Self {
        Point { x, y }
    }
}

impl Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.x, self.y)
    }
}

impl<T: Into<f64>> From<T> for Shape {
    fn from(v: T) -> Self { Shape::Circle(v.into()) }
}

mod tests {
    use super::*;

    #[test]
    fn makes_points() {
        assert_eq!(Point::new(1, 2).x, 1);
    }
}

mod io;

pub const LIMIT: usize = 10;
static GREETING: &str = "héllo";
type Res<T> = Result<T, String>;
union Bits { i: u32, f: f32 }

macro_rules! square {
    ($x:expr) => { $x * $x };
}

extern "C" {
    fn abs(x: i32) -> i32;
}

lazy_static! { static ref X: u8 = 1; }

fn main() {
    println!("{}", square!(3));
}
"""

JAVA = """package com.example.shapes;

import java.util.List;
import static java.lang.Math.max;

/**
 * A shape.
 */
@Entity
public class Shape<T> extends Base implements Comparable<Shape<T>> {
    private static final int SIDES = 4, CORNERS = 4;
    private final List<T> points;

    static {
        System.out.println("loaded");
    }

    public Shape(List<T> points) {
        this.points = points;
    }

    public Shape() { this(List.of()); }

    @Override
    public int compareTo(Shape<T> other) {
        return 0;
    }

    // overloads share a name
    void scale(int factor) {}
    void scale(double factor) {}

    static class Builder {
        Builder add(T p) { return this; }
    }

    enum Kind {
        CIRCLE, SQUARE;

        Kind next() { return this; }
    }

    record Pair(int a, int b) {
        Pair {
            assert a <= b;
        }
        int sum() { return a + b; }
    }
}

interface Drawable {
    int VERSION = 1;
    void draw();
    default void clear() {}
}

enum Color { RED, GREEN, BLUE }

record Point(int x, int y) {}

@interface Tag {
    String value() default "";
}
"""

SAMPLES = {
    "python": PYTHON,
    "javascript": JAVASCRIPT,
    "typescript": TYPESCRIPT,
    "tsx": TSX,
    "go": GO,
    "rust": RUST,
    "java": JAVA,
}


def test_python_outline() -> None:
    root = cut("m.py", PYTHON)
    assert outline(root) == [
        ("expression_statement", ""),
        ("import_statement", ""),
        ("expression_statement", "LIMIT"),
        ("function_definition", "helper"),
        (
            "class_definition",
            "Box",
            [
                ("expression_statement", ""),
                ("expression_statement", "size"),
                ("function_definition", "__init__"),
                ("function_definition", "count"),
            ],
        ),
    ]
    helper = find(root, "helper")
    assert helper.text == "\n\n# a helper\n@cache\ndef helper(x):\n    return x\n"
    assert find(root, "Box").head == "\n\nclass Box(Base):\n"


def test_javascript_outline() -> None:
    root = cut("src/shape.js", JAVASCRIPT)
    assert outline(root) == [
        ("hash_bang_line", ""),
        ("expression_statement", ""),
        ("import_statement", ""),
        ("function_declaration", "add"),
        ("generator_function_declaration", "ids"),
        ("lexical_declaration", "double"),
        ("lexical_declaration", "counter"),
        ("variable_declaration", "legacy"),
        (
            "class_declaration",
            "Shape",
            [
                ("field_definition", "count"),
                ("field_definition", "#secret"),
                ("method_definition", "constructor"),
                ("method_definition", "get.area"),
                ("method_definition", "set.area"),
                ("method_definition", "walk"),
                ("method_definition", "[Symbol.iterator]"),
            ],
        ),
        ("lexical_declaration", "VERSION"),
        ("export_statement", ""),
        ("expression_statement", "module.exports.helper"),
        ("expression_statement", "Shape.prototype.describe"),
        ("expression_statement", ""),
    ]
    # `export` keeps the kind and name of what it exports; the comment before belongs to it
    add = find(root, "add")
    assert add.text == "\n/** Adds. */\nexport function add(a, b) {\n  return a + b;\n}\n"
    shape = find(root, "Shape")
    assert shape.head == "\nexport default class Shape extends Base {\n"
    assert shape.tail == "}\n"
    # a field keeps its `;`, a method its comment and decorator
    assert find(shape, "count").text == "  static count = 0;\n"
    assert find(shape, "get.area").text == "\n  // the area\n  get area() { return 0; }\n"
    assert find(shape, "walk").text == "\n  @logged\n  async *walk() {}\n"


def test_jsx_is_javascript() -> None:
    source = "export const App = () => <div className='app'>{1}</div>;\n"
    assert profile_for("App.jsx") is profiles()["javascript"]
    assert top(cut("App.jsx", source)) == [("lexical_declaration", "App")]


def test_typescript_outline() -> None:
    root = cut("src/service.ts", TYPESCRIPT)
    assert outline(root) == [
        ("import_statement", ""),
        (
            "interface_declaration",
            "Point",
            [
                ("property_signature", "x"),
                ("property_signature", "y"),
                ("property_signature", "label"),
                ("method_signature", "move"),
                ("method_signature", "get.length"),
                ("index_signature", ""),
                ("call_signature", ""),
            ],
        ),
        ("type_alias_declaration", "Pair"),
        ("type_alias_declaration", "Id"),
        ("enum_declaration", "Color"),
        ("enum_declaration", "Flags"),
        (
            "class_declaration",
            "Service",
            [
                ("public_field_definition", "cache"),
                ("public_field_definition", "VERSION"),
                ("method_definition", "constructor"),
                ("public_field_definition", "name"),
                ("method_definition", "onClick"),
                ("method_signature", "fetch"),
                ("method_signature", "fetch"),
                ("method_definition", "fetch"),
            ],
        ),
        (
            "abstract_class_declaration",
            "Repo",
            [("abstract_method_signature", "find"), ("method_definition", "log")],
        ),
        (
            "internal_module",
            "Geometry",
            [("lexical_declaration", "ORIGIN"), ("function_declaration", "distance")],
        ),
        ("module", '"left-pad"', [("function_signature", "leftPad")]),
        (
            "ambient_declaration",
            "global",
            [
                (
                    "interface_declaration",
                    "Window",
                    [
                        ("property_signature", "app"),
                    ],
                )
            ],
        ),
        ("function_signature", "greet"),
        ("lexical_declaration", "config"),
        ("function_signature", "overloaded"),
        ("function_declaration", "overloaded"),
        ("export_statement", ""),
    ]
    point = find(root, "Point")
    # the `;` or `,` ending a member stays with it
    assert [c.text for c in point.children[:2]] == ["  x: T;\n", "  y: T,\n"]
    service = find(root, "Service")
    # a decorator beside a member belongs to it, like a comment
    assert service.head == "\n@Injectable()\nexport class Service<T> implements Api {\n"
    on_click = find(service, "onClick")
    assert on_click.text == '\n  @HostListener("click")\n  onClick(): void {}\n'
    assert service.children[3].text == "\n  @Input() name!: string;\n"


def test_tsx_outline() -> None:
    root = cut("src/Dialog.tsx", TSX)
    assert outline(root) == [
        ("import_statement", ""),
        (
            "interface_declaration",
            "Props",
            [
                ("property_signature", "title"),
                ("property_signature", "onClose"),
            ],
        ),
        ("function_declaration", "Dialog"),
        ("lexical_declaration", "Badge"),
        (
            "class_declaration",
            "Panel",
            [
                ("public_field_definition", "state"),
                ("method_definition", "render"),
            ],
        ),
    ]
    # the TypeScript grammar does not read JSX: a .tsx file needs the tsx profile
    assert segment_module(TSX, profiles()["typescript"]) is None


def test_go_outline() -> None:
    root = cut("server/server.go", GO)
    assert outline(root) == [
        ("package_clause", ""),
        ("import_declaration", ""),
        ("import_declaration", ""),
        ("const_declaration", "Version"),
        (
            "const_declaration",
            "",
            [
                ("const_spec", "Red"),
                ("const_spec", "Green"),
                ("const_spec", "Blue"),
            ],
        ),
        ("var_declaration", "", [("var_spec", "mu"), ("var_spec", "a")]),
        ("var_declaration", "debug"),
        ("type_declaration", "Color"),
        ("type_declaration", "", [("type_spec", "Handler"), ("type_alias", "Alias")]),
        ("type_declaration", "Server"),
        ("type_declaration", "List"),
        ("function_declaration", "New"),
        ("method_declaration", "Server.Start"),
        ("method_declaration", "Server.String"),
        ("method_declaration", "List.Push"),
        ("method_declaration", "List.Len"),
        ("function_declaration", "Map"),
    ]
    assert find(root, "Server.Start").text.startswith("\n// Start starts.\nfunc (s *Server)")
    colors = root.children[4]
    assert colors.head == "\nconst (\n"
    assert colors.children[0].text == "\t// Red is red.\n\tRed Color = iota\n"
    assert colors.children[2].text == "\tBlue // trailing\n"
    assert colors.tail == ")\n"


def test_rust_outline() -> None:
    root = cut("src/lib.rs", RUST)
    assert outline(root) == [
        ("inner_attribute_item", ""),
        ("use_declaration", ""),
        ("extern_crate_declaration", "alloc"),
        ("struct_item", "Point"),
        ("struct_item", "Marker"),
        ("enum_item", "Shape"),
        (
            "trait_item",
            "Area",
            [
                ("const_item", "UNIT"),
                ("associated_type", "Output"),
                ("function_signature_item", "area"),
                ("function_item", "describe"),
            ],
        ),
        ("impl_item", "Point", [("const_item", "ORIGIN"), ("function_item", "new")]),
        ("impl_item", "Display.for.Point", [("function_item", "fmt")]),
        ("impl_item", "From<T>.for.Shape", [("function_item", "from")]),
        ("mod_item", "tests", [("use_declaration", ""), ("function_item", "makes_points")]),
        ("mod_item", "io"),
        ("const_item", "LIMIT"),
        ("static_item", "GREETING"),
        ("type_item", "Res"),
        ("union_item", "Bits"),
        ("macro_definition", "square"),
        ("foreign_mod_item", "", [("function_signature_item", "abs")]),
        ("macro_invocation", ""),
        ("function_item", "main"),
    ]
    # doc comments and outer attributes belong to the item after them
    point = find(root, "Point", kind="struct_item")
    assert point.text.startswith("\n/// A point.\n#[derive(Debug, Clone)]\npub struct")
    new = find(find(root, "Point", kind="impl_item"), "new")
    assert new.text.startswith("\n    #[inline]\n    pub fn new(")
    assert find(root, "tests", "makes_points").text.startswith("\n    #[test]\n    fn makes_points")


def test_java_outline() -> None:
    root = cut("src/main/java/com/example/shapes/Shape.java", JAVA)
    assert outline(root) == [
        ("package_declaration", ""),
        ("import_declaration", ""),
        ("import_declaration", ""),
        (
            "class_declaration",
            "Shape",
            [
                ("field_declaration", "SIDES"),
                ("field_declaration", "points"),
                ("static_initializer", ""),
                ("constructor_declaration", "Shape"),
                ("constructor_declaration", "Shape"),
                ("method_declaration", "compareTo"),
                ("method_declaration", "scale"),
                ("method_declaration", "scale"),
                ("class_declaration", "Builder", [("method_declaration", "add")]),
                ("enum_declaration", "Kind", [("method_declaration", "next")]),
                (
                    "record_declaration",
                    "Pair",
                    [
                        ("compact_constructor_declaration", "Pair"),
                        ("method_declaration", "sum"),
                    ],
                ),
            ],
        ),
        (
            "interface_declaration",
            "Drawable",
            [
                ("constant_declaration", "VERSION"),
                ("method_declaration", "draw"),
                ("method_declaration", "clear"),
            ],
        ),
        ("enum_declaration", "Color"),
        ("record_declaration", "Point", []),
        (
            "annotation_type_declaration",
            "Tag",
            [
                ("annotation_type_element_declaration", "value"),
            ],
        ),
    ]
    shape = find(root, "Shape")
    assert shape.head.startswith("\n/**\n * A shape.\n */\n@Entity\npublic class Shape<T>")
    assert find(shape, "compareTo").text.startswith("\n    @Override\n    public int compareTo")
    # an enum's constants are in its head, its members are units
    kind = find(shape, "Kind")
    assert kind.head == "\n    enum Kind {\n        CIRCLE, SQUARE;\n"
    assert kind.tail == "    }\n"


def test_outlines_survive_crlf_tabs_and_a_bom() -> None:
    for language, source in SAMPLES.items():
        path = f"sample.{EXTENSION[language]}"
        expected = outline(cut(path, source))
        variants = [
            source.replace("\n", "\r\n"),
            "\ufeff" + source,
            source.rstrip("\n"),
            "\ufeff" + source.replace("\n", "\r\n").rstrip("\r\n"),
        ]
        if language != "python":
            variants.append(source.replace("    ", "\t").replace("  ", "\t"))
        for variant in variants:
            assert outline(cut(path, variant)) == expected, (language, variant[:40])


# =========================================================================================
# Edge cases of the round trip, every language
# =========================================================================================

LANGUAGES = sorted(EXTENSION)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("text", ["", "\ufeff", "\n", "\r\n", "\n\n\n", "  \t\n", "\ufeff\r\n"])
def test_blank_files_are_structured_and_round_trip(language: str, text: str) -> None:
    result = segment_file(f"blank.{EXTENSION[language]}", text)
    assert result.root.render() == text
    assert result.root.is_container
    assert result.root.children == []
    assert result.language == language


BROKEN = {
    "python": "def f(:\n    return\n",
    "javascript": "function f( {\n  return 1;\n}\n",
    "typescript": "interface I { a: ; }\nclass {\n",
    "tsx": "const x = <div>;\n",
    "go": "package main\n\nfunc main( {\n}\n",
    "rust": "fn main() {\n    let x = ;\n",
    "java": "class A { void m( { } }\n",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_file_that_does_not_parse_is_one_leaf(language: str) -> None:
    text = BROKEN[language]
    result = segment_file(f"broken.{EXTENSION[language]}", text)
    assert result.root.kind == TEXT_KIND
    assert result.root.text == text
    assert result.language == language
    assert result.fallback_reason is not None
    assert language in result.fallback_reason
    assert segment_module(text, profiles()[language]) is None


@pytest.mark.parametrize("path", ["README.md", "notes.txt", "Makefile"])
def test_a_file_of_no_language_is_one_leaf(path: str) -> None:
    text = "# title\r\n\nsome text ✓\n"
    result = segment_file(path, text)
    assert result.root.kind == TEXT_KIND
    assert result.root.text == text
    assert result.language is None
    assert result.fallback_reason is None


NON_ASCII = {
    "python": "# ünïcödé 🦀\ndef größe(名前='日本'):\n    return '\u2028é'\n",
    "javascript": "// ünïcödé 🦀\nfunction größe(名前) { return '日本 é'; }\nconst Ωmega = 'ß';\n",
    "typescript": "/* ü */ interface Größe { 名前: string; }\nconst café: string = '🦀';\n",
    "tsx": "export const Ω = () => <p title='é'>日本 🦀</p>;\n",
    "go": 'package p\n\n// ü 🦀\nfunc Größe(名前 string) string { return "日本" }\n',
    "rust": "/// ü 🦀\nfn größe(名前: &str) -> &str { \"日本\" }\nconst Ω: char = 'ß';\n",
    "java": '/** ü 🦀 */\nclass Größe { String 名前 = "日本"; void café() {} }\n',
}

NON_ASCII_NAMES = {
    "python": [("function_definition", "größe")],
    "javascript": [("function_declaration", "größe"), ("lexical_declaration", "Ωmega")],
    "typescript": [("interface_declaration", "Größe"), ("lexical_declaration", "café")],
    "tsx": [("lexical_declaration", "Ω")],
    "go": [("package_clause", ""), ("function_declaration", "Größe")],
    "rust": [("function_item", "größe"), ("const_item", "Ω")],
    "java": [("class_declaration", "Größe")],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_non_ascii_names_and_strings(language: str) -> None:
    text = NON_ASCII[language]
    root = cut(f"u.{EXTENSION[language]}", text)
    assert top(root) == NON_ASCII_NAMES[language]
    crlf = "\ufeff" + text.replace("\n", "\r\n")
    assert top(cut(f"u.{EXTENSION[language]}", crlf)) == NON_ASCII_NAMES[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_unit_is_blank(language: str) -> None:
    root = cut(f"s.{EXTENSION[language]}", SAMPLES[language])
    for leaf in leaves(root):
        assert leaf.text
        assert leaf.text.strip(), "a unit of blank text"


def test_a_comment_trailing_a_unit_stays_with_it() -> None:
    root = cut("a.go", "package p\n\nfunc a() {} // about a\n// about b\nfunc b() {}\n")
    assert [c.text for c in root.children[1:]] == [
        "\nfunc a() {} // about a\n",
        "// about b\nfunc b() {}\n",
    ]
    root = cut("a.ts", "class A {\n  x = 1; // one\n  y = 2;\n}\n")
    assert [c.text for c in root.children[0].children] == ["  x = 1; // one\n", "  y = 2;\n"]


def test_a_comment_trailing_a_rust_unit_stays_with_it() -> None:
    root = cut("a.rs", "struct A; // about A\nstruct B;\n")
    assert [c.text for c in root.children] == ["struct A; // about A\n", "struct B;\n"]


def test_units_nest_no_deeper_than_the_profile_says() -> None:
    # module (depth 0) > class_definition (1) > block (2) > function_definition (3)
    profile = profile_for("a.py")
    assert profile is not None
    text = "class A:\n    def f(self):\n        pass\n    X = 1\n"
    deep = segment_module(text, dataclasses.replace(profile, max_start_depth=3))
    shallow = segment_module(text, dataclasses.replace(profile, max_start_depth=2))
    assert deep is not None
    assert shallow is not None
    assert outline(deep) == [
        ("class_definition", "A", [("function_definition", "f"), ("expression_statement", "X")])
    ]
    assert outline(shallow) == [
        ("class_definition", "A", [("function_definition", ""), ("expression_statement", "")])
    ]
    assert shallow.render() == text


def test_a_rust_doc_or_block_comment_trailing_a_unit_stays_with_it() -> None:
    root = cut("a.rs", "impl X {\n    fn a() {} /* a */ // and\n    fn b() {}\n}\n")
    assert [c.text for c in root.children[0].children] == [
        "    fn a() {} /* a */ // and\n",
        "    fn b() {}\n",
    ]
    root = cut("a.rs", "struct A; /// odd\nstruct B;\n")
    assert [c.text for c in root.children] == ["struct A; /// odd\n", "struct B;\n"]


def test_comments_after_the_last_unit_are_the_tail() -> None:
    root = cut("a.java", "class A {\n  int x;\n  // the end\n}\n// bye\n")
    a = root.children[0]
    assert a.tail == "  // the end\n}\n"
    assert root.tail == "// bye\n"


def test_units_on_one_line() -> None:
    root = cut("a.js", "function a() {} function b() {}\nclass C { m() {} n() {} }\n")
    assert outline(root) == [
        ("function_declaration", "a"),
        ("function_declaration", "b"),
        ("class_declaration", "C", [("method_definition", "m"), ("method_definition", "n")]),
    ]
    c = root.children[2]
    assert c.head == "class C { "
    assert [x.text for x in c.children] == ["m() {}", " n() {}"]
    assert c.tail == " }\n"


def test_empty_containers() -> None:
    for path, text in [
        ("a.java", "class A {}\n"),
        ("a.ts", "interface I {\n}\n"),
        ("a.rs", "impl X {\n    // nothing yet\n}\n"),
        ("a.go", "package p\nconst (\n)\n"),
        ("a.js", "class A {\n\n}\n"),
    ]:
        container = cut(path, text).children[-1]
        assert container.is_container
        assert container.children == []
        assert container.tail == ""


def test_rust_impl_names() -> None:
    source = (
        "impl<T> Stack<T> {}\n"
        "impl fmt::Display for Point {}\n"
        "impl From<u8> for Wrap {}\n"
        "impl From<u16> for Wrap {}\n"
        "unsafe impl Send for Point {}\n"
        "impl<'a> Iterator for Iter<'a> {}\n"
    )
    assert [c.name for c in cut("a.rs", source).children] == [
        "Stack<T>",
        "fmt::Display.for.Point",
        "From<u8>.for.Wrap",
        "From<u16>.for.Wrap",
        "Send.for.Point",
        "Iterator.for.Iter<'a>",
    ]


def test_go_receivers() -> None:
    source = (
        "package p\n"
        "func (s *Server) A() {}\n"
        "func (s Server) B() {}\n"
        "func (*Server) C() {}\n"
        "func (l *List[K, V]) D() {}\n"
        "func (l List[T]) E() {}\n"
    )
    names = [c.name for c in cut("a.go", source).children[1:]]
    assert names == ["Server.A", "Server.B", "Server.C", "List.D", "List.E"]


def test_typescript_wrappers_keep_kind_and_name() -> None:
    plain = "function f(): void {}\ninterface I { a: 1 }\nnamespace N { }\nconst c = 1;\n"
    wrapped = (
        "export function f(): void {}\n"
        "export interface I { a: 1 }\n"
        "export namespace N { }\n"
        "export const c = 1;\n"
        "declare function g(): void;\n"
        "export declare function h(): void;\n"
        "declare namespace M { }\n"
        "export declare class K { m(): void; }\n"
    )
    expected = [
        ("function_declaration", "f"),
        ("interface_declaration", "I"),
        ("internal_module", "N"),
        ("lexical_declaration", "c"),
    ]
    assert top(cut("a.ts", plain)) == expected
    assert top(cut("b.ts", wrapped)) == [
        *expected,
        ("function_signature", "g"),
        ("function_signature", "h"),
        ("internal_module", "M"),
        ("class_declaration", "K"),
    ]


def test_javascript_export_keeps_kind_and_name() -> None:
    plain = "function f() {}\nclass C {}\nconst c = 1;\nfunction* g() {}\n"
    exported = "export function f() {}\nexport default class C {}\nexport const c = 1;\n"
    exported += "export function* g() {}\n"
    assert top(cut("a.js", plain)) == top(cut("b.mjs", exported))


def test_destructuring_declarations_are_unnamed() -> None:
    root = cut("a.js", "const { a, b } = obj;\nconst [x] = xs, y = 1;\nconst z = 1, w = 2;\n")
    assert top(root) == [
        ("lexical_declaration", ""),
        ("lexical_declaration", ""),
        ("lexical_declaration", "z"),
    ]


def test_deep_nesting_stays_a_round_trip() -> None:
    inner = "class Z { m() {} }"
    for _ in range(10):
        inner = f"namespace N {{ {inner} }}"
    text = inner + "\n"
    root = cut("deep.ts", text)
    depth, seg = 0, root
    while seg.children and seg.children[0].is_container:
        seg = seg.children[0]
        depth += 1
    assert depth >= 4


# =========================================================================================
# Hypothesis: sources composed from snippet pools, in every language
# =========================================================================================


@dataclass(frozen=True)
class Snippet:
    """Lines of source; a leading "\\t" is one level of indentation (replaced per example).

    ⟨n⟩ is replaced by a name, ⟨s⟩ by string content, ⟨c⟩ by comment text. `units` is what
    the snippet adds to the file's top level: (kind, name) with ⟨n⟩ replaced too."""

    lines: tuple[str, ...]
    units: tuple[tuple[str, str], ...] = ()


def S(text: str, *units: tuple[str, str]) -> Snippet:
    return Snippet(tuple(text.split("\n")), tuple(units))


COMMENT = {
    "python": S("# ⟨c⟩"),
    "javascript": S("// ⟨c⟩"),
    "typescript": S("/* ⟨c⟩ */"),
    "tsx": S("// ⟨c⟩"),
    "go": S("// ⟨c⟩"),
    "rust": S("// ⟨c⟩"),
    "java": S("/** ⟨c⟩ */"),
}

POOLS: dict[str, list[Snippet]] = {
    "python": [
        S("def ⟨n⟩(a, b=1):\n\t'''⟨s⟩'''\n\treturn a + b  # ⟨c⟩", ("function_definition", "⟨n⟩")),
        S("@decorator(1)\ndef ⟨n⟩():\n\tpass", ("function_definition", "⟨n⟩")),
        S(
            "class ⟨n⟩(Base):\n\tx = '⟨s⟩'\n\n\tdef m(self):\n\t\treturn self.x\n\n\t@property\n"
            "\tdef p(self):\n\t\treturn 1",
            ("class_definition", "⟨n⟩"),
        ),
        S("⟨n⟩ = '⟨s⟩'", ("expression_statement", "⟨n⟩")),
        S("import os", ("import_statement", "")),
        S("if __name__ == '__main__':\n\tmain()", ("if_statement", "")),
    ],
    "javascript": [
        S("function ⟨n⟩(a, b) {\n\treturn a + b; // ⟨c⟩\n}", ("function_declaration", "⟨n⟩")),
        S("export async function ⟨n⟩() {\n\tawait x;\n}", ("function_declaration", "⟨n⟩")),
        S("const ⟨n⟩ = (x) => `⟨s⟩${x}`;", ("lexical_declaration", "⟨n⟩")),
        S("let ⟨n⟩ = 1, other = 2;", ("lexical_declaration", "⟨n⟩")),
        S("var ⟨n⟩ = '⟨s⟩';", ("variable_declaration", "⟨n⟩")),
        S(
            "class ⟨n⟩ extends Base {\n\tstatic count = 0;\n\t#p = '⟨s⟩';\n\n\tconstructor() {\n"
            "\t\tsuper();\n\t}\n\t// ⟨c⟩\n\tget size() { return 1; }\n\t@dec\n\tm() {}\n}",
            ("class_declaration", "⟨n⟩"),
        ),
        S("export default class ⟨n⟩ {\n}", ("class_declaration", "⟨n⟩")),
        S("import { a as b } from '⟨s⟩';", ("import_statement", "")),
        S("module.exports.⟨n⟩ = function () {};", ("expression_statement", "module.exports.⟨n⟩")),
        S("console.log('⟨s⟩');", ("expression_statement", "")),
        S("function* ⟨n⟩() { yield 1; }", ("generator_function_declaration", "⟨n⟩")),
    ],
    "typescript": [
        S(
            "export function ⟨n⟩<T>(a: T): T {\n\treturn a; // ⟨c⟩\n}",
            ("function_declaration", "⟨n⟩"),
        ),
        S(
            "interface ⟨n⟩ {\n\ta: string;\n\tb?(x: number): void;\n\t[k: string]: unknown;\n}",
            ("interface_declaration", "⟨n⟩"),
        ),
        S("type ⟨n⟩ = { a: '⟨s⟩' } | null;", ("type_alias_declaration", "⟨n⟩")),
        S("enum ⟨n⟩ {\n\tA,\n\tB = '⟨s⟩',\n}", ("enum_declaration", "⟨n⟩")),
        S(
            "@Component({ selector: '⟨s⟩' })\nexport class ⟨n⟩ implements OnInit {\n"
            "\tprivate x: number = 1;\n\t@Input() y!: string;\n\n\tconstructor(private s: S) {}\n"
            "\t@HostListener('click')\n\tngOnInit(): void {}\n}",
            ("class_declaration", "⟨n⟩"),
        ),
        S("abstract class ⟨n⟩ {\n\tabstract m(): void;\n}", ("abstract_class_declaration", "⟨n⟩")),
        S("namespace ⟨n⟩ {\n\texport const x = 1;\n}", ("internal_module", "⟨n⟩")),
        S("declare function ⟨n⟩(a: string): void;", ("function_signature", "⟨n⟩")),
        S("export const ⟨n⟩: Record<string, number> = {};", ("lexical_declaration", "⟨n⟩")),
        S("import type { A } from '⟨s⟩';", ("import_statement", "")),
    ],
    "tsx": [
        S(
            "export function ⟨n⟩({ a }: Props) {\n\treturn <div title='⟨s⟩'>{a}</div>;\n}",
            ("function_declaration", "⟨n⟩"),
        ),
        S(
            "const ⟨n⟩ = () => (\n\t<>\n\t\t<span>⟨s⟩</span>\n\t</>\n);",
            ("lexical_declaration", "⟨n⟩"),
        ),
        S("interface ⟨n⟩ {\n\ttitle: string;\n}", ("interface_declaration", "⟨n⟩")),
        S(
            "export default class ⟨n⟩ extends React.Component {\n\trender() {\n"
            "\t\treturn <p>{1}</p>;\n\t}\n}",
            ("class_declaration", "⟨n⟩"),
        ),
        S("import React from 'react';", ("import_statement", "")),
    ],
    "go": [
        S("func ⟨n⟩(a int) int {\n\treturn a // ⟨c⟩\n}", ("function_declaration", "⟨n⟩")),
        S("func (s *Server) ⟨n⟩() error {\n\treturn nil\n}", ("method_declaration", "Server.⟨n⟩")),
        S('type ⟨n⟩ struct {\n\tA string `json:"a"`\n}', ("type_declaration", "⟨n⟩")),
        S('const ⟨n⟩ = "⟨s⟩"', ("const_declaration", "⟨n⟩")),
        S("const (\n\t⟨n⟩ = iota\n\tOther\n)", ("const_declaration", "")),
        S("var ⟨n⟩, other int", ("var_declaration", "⟨n⟩")),
        S('import "fmt"', ("import_declaration", "")),
        S("type (\n\t⟨n⟩ int\n\tAlias = string\n)", ("type_declaration", "")),
    ],
    "rust": [
        S("fn ⟨n⟩(a: i32) -> i32 {\n\ta + 1 // ⟨c⟩\n}", ("function_item", "⟨n⟩")),
        S("#[derive(Debug)]\npub struct ⟨n⟩ {\n\tx: String,\n}", ("struct_item", "⟨n⟩")),
        S("enum ⟨n⟩ {\n\tA,\n\tB(u8),\n}", ("enum_item", "⟨n⟩")),
        S(
            "impl ⟨n⟩ {\n\t#[inline]\n\tpub fn new() -> Self {\n\t\ttodo!()\n\t}\n}",
            ("impl_item", "⟨n⟩"),
        ),
        S(
            "impl fmt::Display for ⟨n⟩ {\n\tfn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result "
            '{\n\t\twrite!(f, "⟨s⟩")\n\t}\n}',
            ("impl_item", "fmt::Display.for.⟨n⟩"),
        ),
        S("pub trait ⟨n⟩ {\n\tfn m(&self);\n}", ("trait_item", "⟨n⟩")),
        S("mod ⟨n⟩ {\n\tuse super::*;\n}", ("mod_item", "⟨n⟩")),
        S('const ⟨n⟩: &str = "⟨s⟩";', ("const_item", "⟨n⟩")),
        S("use std::collections::HashMap;", ("use_declaration", "")),
        S("macro_rules! ⟨n⟩ {\n\t() => {};\n}", ("macro_definition", "⟨n⟩")),
    ],
    "java": [
        S(
            "class ⟨n⟩ {\n\tprivate int x = 1;\n\n\t@Override\n\tpublic String toString() {\n"
            '\t\treturn "⟨s⟩"; // ⟨c⟩\n\t}\n}',
            ("class_declaration", "⟨n⟩"),
        ),
        S(
            "@FunctionalInterface\ninterface ⟨n⟩ {\n\tvoid run();\n}",
            ("interface_declaration", "⟨n⟩"),
        ),
        S("enum ⟨n⟩ {\n\tA, B;\n\n\tint f() { return 1; }\n}", ("enum_declaration", "⟨n⟩")),
        S("enum ⟨n⟩ { X, Y }", ("enum_declaration", "⟨n⟩")),
        S("record ⟨n⟩(int a, String b) {\n\t⟨n⟩ {\n\t}\n}", ("record_declaration", "⟨n⟩")),
        S("final class ⟨n⟩ {\n\tstatic {\n\t}\n\t⟨n⟩() {}\n}", ("class_declaration", "⟨n⟩")),
    ],
}

# A file's fixed first lines: Go needs its package clause first; Java may have one.
PROLOGUE = {
    "go": S("package ⟨n⟩", ("package_clause", "")),
    "java": S("package com.⟨n⟩;", ("package_declaration", "")),
}

NAMES = ["alpha", "beta_2", "Gamma", "größe", "名前", "café", "Ωmega", "x"]
COMMENT_TEXT = st.text(
    alphabet=st.sampled_from("abc XYZ 123 é ß 日本 🦀 \u00a0 \t ~!#%^&()[]{}<>;:,.?|+-="),
    max_size=20,
)
STRING_TEXT = st.text(
    alphabet=st.sampled_from("abc XYZ 123 é ß 日本 🦀 \u00a0 .,:;!?-_"), max_size=12
)
GARBAGE = st.lists(
    st.sampled_from(
        [
            *"{}()[]<>;:,.'\"`#@$%^&*!?/\\|~=+-",
            "\r",
            "\n",
            "\t",
            "\x00",
            "\x0c",
            "é",
            "🦀",
            "\u2028",
            "\ufeff",
            "fn ",
            "def ",
            "class ",
            "func ",
            "*/",
            "/*",
            "//",
            "#[",
            '"""',
        ]
    ),
    min_size=1,
    max_size=4,
).map("".join)


@dataclass
class Generated:
    text: str
    units: list[tuple[str, str]]
    garbage: bool


@st.composite
def sources(draw: st.DrawFn, language: str) -> Generated:
    pool = POOLS[language]
    indent = draw(st.sampled_from(["\t", "  ", "    "]))
    base = "" if language == "python" else draw(st.sampled_from(["", "", " ", "\t"]))
    newline_style = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    chosen: list[Snippet] = []
    if language in PROLOGUE and (language == "go" or draw(st.booleans())):
        chosen.append(PROLOGUE[language])
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["unit", "unit", "unit", "comment", "blank"]))
        if kind == "comment":
            chosen.append(COMMENT[language])
        elif kind == "blank":
            chosen.append(S(""))
        else:
            chosen.append(draw(st.sampled_from(pool)))
    lines: list[str] = []
    units: list[tuple[str, str]] = []
    for snippet in chosen:
        name = draw(st.sampled_from(NAMES))
        string = draw(STRING_TEXT)
        for line in snippet.lines:
            depth = len(line) - len(line.lstrip("\t"))
            body = line[depth:].replace("⟨n⟩", name).replace("⟨s⟩", string)
            body = body.replace("⟨c⟩", draw(COMMENT_TEXT))
            lines.append((base + indent * depth + body) if body else "")
        units += [(k, n.replace("⟨n⟩", name)) for k, n in snippet.units]
    if newline_style == "mixed":
        text = "".join(line + draw(st.sampled_from(["\n", "\r\n"])) for line in lines)
    else:
        text = "".join(line + newline_style for line in lines)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    if draw(st.booleans()):
        text = "\ufeff" + text
    garbage = draw(st.integers(0, 4)) == 0
    if garbage:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(GARBAGE) + text[at:]
    return Generated(text, units, garbage)


def parses(language: str, text: str) -> bool:
    body = text[1:] if text.startswith("\ufeff") else text
    return not profiles()[language].parser().parse(body.encode("utf-8")).root_node.has_error


def check_round_trip(language: str, generated: Generated) -> None:
    text = generated.text
    result = segment_file(f"gen/file.{EXTENSION[language]}", text)
    assert result.root.render() == text
    assert result.language == language
    if parses(language, text):
        assert result.fallback_reason is None, "a source that parses fell back to a leaf"
        assert result.root.is_container
        for leaf in leaves(result.root):
            assert leaf.text, "an empty unit"
        if not generated.garbage:
            assert top(result.root) == generated.units
    else:
        assert result.root.kind == TEXT_KIND
        assert result.root.text == text
        if not generated.garbage:
            # A clean composed source parses, but for one quirk of tree-sitter-go: a struct
            # type declaration that ends the file needs a newline after its `}`.
            assert language == "go", "a clean composed source does not parse"
            assert not text.endswith("\n")
            assert parses(language, text + "\n")


def test_go_needs_a_newline_after_a_struct_at_the_end() -> None:
    # Documents a grammar quirk (tree-sitter-go 0.25): such a file is one leaf of plain text.
    # If this starts failing, the grammar was fixed: drop the exemption in check_round_trip.
    text = "package p\n\ntype T struct {\n\tA int\n}"
    assert not parses("go", text)
    assert parses("go", text + "\n")
    assert parses("go", "package p\n\nfunc f() {\n}")


ROUND_TRIP = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("language", LANGUAGES)
@ROUND_TRIP
@given(data=st.data())
def test_composed_sources_round_trip(language: str, data: st.DataObject) -> None:
    check_round_trip(language, data.draw(sources(language)))


@pytest.mark.parametrize("language", LANGUAGES)
@ROUND_TRIP
@given(
    text=st.text(
        alphabet=st.sampled_from([*"ab fn(){}[];:=\n\r\t'\"/*#@<>.,", "é", "🦀", "\ufeff"]),
        max_size=60,
    )
)
def test_arbitrary_text_round_trips(language: str, text: str) -> None:
    check_round_trip(language, Generated(text, [], garbage=True))


# =========================================================================================
# The Python standard library as a corpus
# =========================================================================================


def test_python_standard_library_round_trips() -> None:
    root = Path(sysconfig.get_paths()["stdlib"])
    checked = structured = 0
    failures: list[str] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(("site-packages/", "dist-packages/")):
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        result = segment_file(relative, text)
        checked += 1
        if result.root.render() != text:
            failures.append(relative)
        structured += result.fallback_reason is None
    assert failures == []
    assert checked > 1000
    assert structured > 0.95 * checked
