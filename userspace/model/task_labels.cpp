#include "task_labels.h"

#include <algorithm>
#include <unordered_set>

namespace slableak {

std::unordered_map<uint8_t, std::string> unique_task_labels(const std::unordered_map<uint8_t, std::string>& names,
                                                            const std::vector<uint8_t>& slots) {
  std::vector<uint8_t> order(slots);
  for (const auto& [slot, name] : names) order.push_back(slot);
  order.push_back(0);
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());

  std::unordered_map<uint8_t, std::string> out;
  std::unordered_set<std::string> taken;
  for (const uint8_t slot : order) {
    const auto it = names.find(slot);
    std::string label = slot == 0 ? "other" : it != names.end() ? it->second : "task#" + std::to_string(slot);
    // Terminates: each round makes the label longer, and only finitely
    // many labels are taken.
    while (!taken.insert(label).second) label += " #" + std::to_string(slot);
    out.emplace(slot, std::move(label));
  }
  return out;
}

}  // namespace slableak
