// The comparison reader for the benchmark: the npm package app-info-parser reading each IPA
// given (Info.plist, provisioning profile, icon converted to PNG). One JSON line per IPA.
const AppInfoParser = require('app-info-parser');

(async () => {
  for (const file of process.argv.slice(2)) {
    const info = await new AppInfoParser(file).parse();
    console.log(JSON.stringify({
      bundle_id: info.CFBundleIdentifier,
      version: info.CFBundleShortVersionString,
      build: info.CFBundleVersion,
      icon_chars: info.icon ? info.icon.length : 0,
      team: info.mobileProvision ? info.mobileProvision.TeamName : null,
    }));
  }
})().catch((e) => { console.error(e); process.exit(1); });
