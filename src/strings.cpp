#include "nalu/strings.h"

#include <sstream>

namespace nalu {

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty())
      out.append(separator);
    out.append(part);
  }
  return out;
}

std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator))
    parts.push_back(part);
  return parts;
}

size_t find_name(const std::vector<std::string>& names, const std::string& name,
                 const std::string& what) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name)
      return i;
  }
  throw Error("unknown " + what + " '" + name + "' (known: " + join(names, ", ") + ")");
}

}  // namespace nalu
