// publish/capture_store.h on a scratch directory: whole captures appear
// under their name, retention runs after each, and a directory that went
// away is a failed write with a reason, not a crash. (A full disk and a
// read-only directory need mounts: tests/integration/capture_test.cpp.)
#include "capture_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "capture_plan.h"
#include "error.h"

using namespace slableak;
namespace fs = std::filesystem;

namespace {

class ScratchDir {
 public:
  ScratchDir() {
    std::string t = (fs::temp_directory_path() / "slableak-capture-XXXXXX").string();
    path_ = mkdtemp(t.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<CaptureFile> files(const std::string& tag) {
  return {{"report.json", "{\"tag\":\"" + tag + "\"}\n"}, {"meminfo", "MemTotal: 1 kB\n"}};
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(CaptureStore, WritesAWholeDirectoryUnderItsName) {
  ScratchDir d;
  CaptureStore store(d.path() + "/captures", 10, 1 << 20);  // created if missing
  const std::string name = capture_name(1000, CaptureTrigger::signal);
  std::string err;
  ASSERT_TRUE(store.write(name, files("a"), &err)) << err;
  EXPECT_EQ(slurp(fs::path(d.path()) / "captures" / name / "report.json"), "{\"tag\":\"a\"}\n");
  EXPECT_EQ(slurp(fs::path(d.path()) / "captures" / name / "meminfo"), "MemTotal: 1 kB\n");
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(fs::path(d.path()) / "captures")) {
    ++entries;
    EXPECT_EQ(e.path().filename().string().rfind(".tmp-", 0), std::string::npos) << "temporary left behind";
  }
  EXPECT_EQ(entries, 1u);
  const auto listed = CaptureStore::list(d.path() + "/captures");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].first, name);
  EXPECT_EQ(listed[0].second, files("a")[0].content.size() + files("a")[1].content.size());
  EXPECT_EQ(CaptureStore::read(d.path() + "/captures", name, "meminfo", 100), "MemTotal: 1 kB\n");
}

TEST(CaptureStore, KeepsAtMostNOldestGoFirst) {
  ScratchDir d;
  CaptureStore store(d.path(), 3, 1 << 20);
  std::vector<std::string> names;
  std::string err;
  for (int i = 0; i < 5; ++i) {
    names.push_back(capture_name(1000 + i, CaptureTrigger::growth));
    ASSERT_TRUE(store.write(names.back(), files(std::to_string(i)), &err)) << err;
  }
  std::vector<std::string> left;
  for (const auto& [n, bytes] : CaptureStore::list(d.path())) left.push_back(n);
  EXPECT_EQ(left, (std::vector<std::string>{names[2], names[3], names[4]}));
  EXPECT_EQ(store.removed(), 2u);
}

TEST(CaptureStore, SizeCapCountsTheFiles) {
  ScratchDir d;
  const std::string big(4000, 'x');
  CaptureStore store(d.path(), 10, 10000);
  std::string err;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store.write(capture_name(1000 + i, CaptureTrigger::signal), {{"f", big}}, &err));
  EXPECT_EQ(CaptureStore::list(d.path()).size(), 2u);  // 8000 <= 10000 < 12000
}

TEST(CaptureStore, ADeletedDirectoryIsAFailedWriteNotACrash) {
  ScratchDir d;
  const std::string dir = d.path() + "/c";
  CaptureStore store(dir, 10, 1 << 20);
  fs::remove_all(dir);
  std::string err;
  EXPECT_FALSE(store.write(capture_name(1000, CaptureTrigger::oom), files("x"), &err));
  EXPECT_NE(err.find("No such file or directory"), std::string::npos) << err;
  EXPECT_NE(err.find(dir), std::string::npos) << err;
  // Created again: written to as it is now.
  fs::create_directory(dir);
  EXPECT_TRUE(store.write(capture_name(1001, CaptureTrigger::oom), files("y"), &err)) << err;
}

TEST(CaptureStore, AFileThatCannotBeWrittenLeavesNoTemporary) {
  ScratchDir d;
  CaptureStore store(d.path(), 10, 1 << 20);
  std::string err;
  // Two files of one name: the second create fails (O_EXCL).
  EXPECT_FALSE(store.write(capture_name(1000, CaptureTrigger::signal), {{"a", "1"}, {"a", "2"}}, &err));
  EXPECT_NE(err.find("cannot create a"), std::string::npos) << err;
  EXPECT_TRUE(fs::is_empty(d.path()));
}

TEST(CaptureStore, RemovesTemporariesOfAKilledWriterAtStart) {
  ScratchDir d;
  const fs::path stale = fs::path(d.path()) / (".tmp-" + capture_name(1000, CaptureTrigger::oom));
  fs::create_directory(stale);
  std::ofstream(stale / "report.json") << "{";
  std::ofstream(fs::path(d.path()) / "README") << "operator's notes";
  CaptureStore store(d.path(), 10, 1 << 20);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fs::path(d.path()) / "README"));  // not ours: left alone
  EXPECT_TRUE(CaptureStore::list(d.path()).empty());
}

TEST(CaptureStore, RefusesAPathThatIsNotADirectory) {
  ScratchDir d;
  std::ofstream(fs::path(d.path()) / "file") << "x";
  try {
    CaptureStore store(d.path() + "/file", 10, 1 << 20);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_NE(std::string(e.what()).find("--capture-dir"), std::string::npos) << e.what();
  }
}

// `slableak captures DIR` on a DIR that is not there: a bad argument (exit
// 2, as a missing file is to `diff`), in one line that names the fix.
TEST(CaptureStore, ListingAMissingDirectoryIsAUsageError) {
  ScratchDir d;
  std::ofstream(fs::path(d.path()) / "file") << "x";
  for (const std::string bad : {d.path() + "/missing", d.path() + "/file"}) {
    try {
      CaptureStore::list(bad);
      FAIL() << "no error for " << bad;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.code(), Exit::usage) << what;
      EXPECT_NE(what.find(bad), std::string::npos) << what;
      EXPECT_NE(what.find("export --capture-dir"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

// A second exporter on the same directory leaves the first one's capture in
// progress alone (it used to delete every ".tmp-" directory on start); what
// a killed writer left behind still goes.
TEST(CaptureStore, StartRemovesOnlyWhatDeadWritersLeft) {
  ScratchDir d;
  const std::string live = d.path() + "/.tmp-" + std::to_string(getppid()) + "-20261206T211405.250Z-oom";
  const std::string dead = d.path() + "/.tmp-999999999-20261206T211405.250Z-oom";
  const std::string old = d.path() + "/.tmp-20261206T211405.250Z-signal";
  for (const auto& p : {live, dead, old}) ASSERT_EQ(mkdir(p.c_str(), 0750), 0) << p;
  CaptureStore store(d.path(), 10, 1 << 20);
  struct stat st {};
  EXPECT_EQ(stat(live.c_str(), &st), 0) << "a live writer's capture in progress was removed";
  EXPECT_NE(stat(dead.c_str(), &st), 0);
  EXPECT_NE(stat(old.c_str(), &st), 0);
}

// A FIFO where a capture's manifest should be (planted by anyone who can
// write the directory) is refused at once: `slableak captures` used to
// block in open() until a writer came, which is never.
TEST(CaptureStore, ReadingAFifoIsRefusedNotAHang) {
  ScratchDir d;
  const fs::path cap = fs::path(d.path()) / "20261207T000000Z-sigusr1";
  fs::create_directory(cap);
  ASSERT_EQ(mkfifo((cap / "capture.json").c_str(), 0600), 0);
  try {
    CaptureStore::read(d.path(), cap.filename().string(), "capture.json", 1 << 20);
    FAIL() << "a FIFO was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}
