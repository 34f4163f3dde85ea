#!/usr/bin/env bash
# Makes docs/open-results-lidc-0001.png: real ImageJ 1.54p on a virtual display (xvfb-run), our jar in its
# plugins folder, opening a CT with File > Import > DICOM series with geometry and a finished run's candidates
# file with Plugins > Lung Nodules > Open Results, as a user would; then ImageJ's own Capture Screen.
#
#   scripts/screenshot-open-results.sh DICOM_FOLDER CANDIDATES_CSV SLICE OUT.png
#
# Run `./luna analyze input=DICOM_FOLDER output=OUT ...` first, and `mvn -o verify` (or package plus
# dependency:copy-dependencies -DoutputDirectory=target/imagej-jars) for the jars. SLICE is 1-based.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dicom="$1" csv="$2" slice="$3" out="$4"
ij="$(ls ~/.m2/repository/net/imagej/ij/1.54p/ij-1.54p.jar)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/plugins/jars"
cp "$(ls "$here"/target/Lung_Nodules-*.jar | grep -v -e sources -e tests | head -n 1)" "$work/plugins/Lung_Nodules.jar"
ln -s "$here"/target/imagej-jars/* "$work/plugins/jars/"
cat > "$work/shot.ijm" <<IJM
setBatchMode(false);
run("DICOM series with geometry", "input=[$dicom]");
ct = getTitle();
run("Open Results", "candidates=[$csv]");
if (isOpen("Log")) { selectWindow("Log"); setLocation(1400, 900); }
selectImage(ct);
setSlice($slice);
setMinAndMax(-1000, 400);
setLocation(0, 78);
Table.setLocationAndSize(545, 78, 735, 265, "Nodules");
if (isOpen("ROI Manager")) { selectWindow("ROI Manager"); setLocation(545, 350); }
selectImage(ct);
roiManager("select", 0);
wait(2000);
run("Capture Screen");
saveAs("PNG", "$out");
run("Quit");
IJM
timeout 300 xvfb-run -a -s "-screen 0 1280x720x24" java -Xmx4g -Dplugins.dir="$work" -Dai.djl.offline=true -jar "$ij" \
	-ijpath "$work" -macro "$work/shot.ijm"
