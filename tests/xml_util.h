// Checking hand-written XML (SVG figures) in tests without an XML library.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

namespace nalu::testing {

// Checks that `xml` is one well-formed element tree (tags balanced and properly nested, every
// attribute value quoted, no raw '<' or '&' in text) and returns its element names in order.
inline ::testing::AssertionResult well_formed(const std::string& xml,
                                              std::vector<std::string>& elements) {
  std::vector<std::string> open;
  size_t i = 0;
  if (xml.rfind("<?xml", 0) == 0)
    i = xml.find("?>") + 2;
  bool root_closed = false;
  while (i < xml.size()) {
    if (xml[i] != '<') {
      if (xml[i] == '&') {
        const auto end = xml.find(';', i);
        const std::string entity = xml.substr(i, end == std::string::npos ? 1 : end - i + 1);
        if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;")
          return ::testing::AssertionFailure() << "bad entity at " << i << ": " << entity;
      } else if (!std::isspace(static_cast<unsigned char>(xml[i])) && open.empty()) {
        return ::testing::AssertionFailure() << "text outside the root at " << i;
      }
      ++i;
      continue;
    }
    if (root_closed)
      return ::testing::AssertionFailure() << "a second root element at " << i;
    // Find the end of the tag, skipping quoted attribute values.
    size_t j = i + 1;
    bool quoted = false;
    while (j < xml.size() && (quoted || xml[j] != '>')) {
      if (xml[j] == '"')
        quoted = !quoted;
      else if (quoted && (xml[j] == '<'))
        return ::testing::AssertionFailure() << "raw '<' in an attribute at " << j;
      ++j;
    }
    if (j >= xml.size())
      return ::testing::AssertionFailure() << "unterminated tag at " << i;
    const std::string tag = xml.substr(i + 1, j - i - 1);
    const bool closing = tag.front() == '/';
    const bool empty = tag.back() == '/';
    const std::string name =
        tag.substr(closing ? 1 : 0, tag.find_first_of(" /\n", 1) - (closing ? 1 : 0));
    if (closing) {
      if (open.empty() || open.back() != name)
        return ::testing::AssertionFailure()
               << "</" << name << "> closes <" << (open.empty() ? "" : open.back()) << ">";
      open.pop_back();
      root_closed = open.empty();
    } else {
      elements.push_back(name);
      if (!empty)
        open.push_back(name);
      else
        root_closed = open.empty();
    }
    i = j + 1;
  }
  if (!open.empty())
    return ::testing::AssertionFailure() << "<" << open.back() << "> is never closed";
  if (!root_closed)
    return ::testing::AssertionFailure() << "no root element";
  return ::testing::AssertionSuccess();
}

}  // namespace nalu::testing
