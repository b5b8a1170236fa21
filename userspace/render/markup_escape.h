// Text from the kernel (symbol and module names, cache names) inside SVG and
// HTML. Names are data, never markup: a module called "<script>" must show
// as those nine characters. Both XML and HTML parse what this writes.
#pragma once
#include <string>
#include <string_view>

namespace slableak {

// For element text and double- or single-quoted attribute values: escapes
// & < > " ' and turns characters XML 1.0 cannot carry (controls other than
// tab, and bytes that are not valid UTF-8) into U+FFFD. Newline and tab are
// written as character references so an attribute keeps them.
std::string markup_escape(std::string_view text);

// JSON text placed inside an HTML <script type="application/json"> element:
// '<', '>' and '&' become \u escapes, so "</script>" or "<!--" in a name
// cannot end the element. Still valid JSON with the same value.
std::string json_for_script(std::string_view json);

}  // namespace slableak
