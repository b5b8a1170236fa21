// write_new_file (publish/new_file.h): top's `w` in a directory another
// user controls follows and replaces nothing that is there.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "new_file.h"

namespace slableak {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class NewFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::filesystem::temp_directory_path() / "slableak-newfile.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    victim_ = dir_ + "/victim";
    std::ofstream(victim_) << "precious\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, victim_;
};

TEST_F(NewFile, WritesTheFirstFreeName) {
  std::string err;
  EXPECT_EQ(write_new_file(dir_, "x", ".svg", "one", &err), "x.svg") << err;
  EXPECT_EQ(write_new_file(dir_, "x", ".svg", "two", &err), "x-2.svg") << err;
  EXPECT_EQ(slurp(dir_ + "/x.svg"), "one");
  EXPECT_EQ(slurp(dir_ + "/x-2.svg"), "two");
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) files += e.path().filename() != "victim";
  EXPECT_EQ(files, 2u) << "a temporary file stayed";
}

TEST_F(NewFile, PlantedSymlinksAreNeitherFollowedNorReplaced) {
  for (const char* n : {"x.svg", "x.svg.tmp", ".x.svg.tmp"})
    ASSERT_EQ(symlink(victim_.c_str(), (dir_ + "/" + n).c_str()), 0);
  std::string err;
  const std::string name = write_new_file(dir_, "x", ".svg", "<svg/>", &err);
  EXPECT_EQ(name, "x-2.svg") << err;
  EXPECT_EQ(slurp(victim_), "precious\n");
  struct stat st{};
  ASSERT_EQ(lstat((dir_ + "/x.svg").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the planted link was replaced";
  ASSERT_EQ(lstat((dir_ + "/x-2.svg").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(slurp(dir_ + "/x-2.svg"), "<svg/>");
}

TEST_F(NewFile, AnUnwritableDirectoryIsOneLine) {
  std::string err;
  EXPECT_EQ(write_new_file(dir_ + "/missing", "x", ".svg", "a", &err), "");
  EXPECT_NE(err.find("cannot open " + dir_ + "/missing: No such file or directory"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace slableak
