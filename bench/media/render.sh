#!/usr/bin/env bash
# The media figures of docs/media.md and docs/performance.md ("Media"), with
# the programs the media jobs run and the arguments they give them
# (functions/media/src/video_job.rs, tts_job.rs): a narrated ~65 s video
# with four cards of eight lines and fifteen subtitle cues, rendered at
# 1280x720 and 1080x1920 (2 frames a second, x264 veryfast + stillimage),
# and the narration of a 5,000-character text (espeak-ng pieces of at most
# 2,000 bytes, two at a time, joined by the concat demuxer, MP3).
# The end-to-end figures through the API are the ignored test
# `media_figures` (tests/tests/suite/media.rs).
#
#   bench/media/render.sh            (needs ffmpeg, ffprobe, espeak-ng, python3)
set -euo pipefail
FONT="$(cd "$(dirname "$0")/../.." && pwd)/shared/fonts/NotoSans-Regular.ttf"
DIR="$(mktemp -d)"; trap 'rm -rf "$DIR"' EXIT
cd "$DIR"; cp "$FONT" .
B="The harbour town had always lived by the tides, and every family kept a clock that counted the hours to high water. When the sea stopped rising one spring, the fishermen waited on the quay for three days, and the children learned to walk on sand that had never seen the sun."
espeak-ng -v en-us -s 175 --stdout -b 1 "When the sea stood still. Part one. $B Part two. $B Part three. $B Part four. $B" > n.wav
D=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 n.wav)
python3 - "$D" "$DIR" <<'EOF'
import sys
d, here = float(sys.argv[1]), sys.argv[2]
fm = lambda t: '%02d:%02d:%06.3f' % (t // 3600, (t // 60) % 60, t % 60)
with open('s.vtt', 'w') as f:
    f.write('WEBVTT\n\n')
    for i in range(15):
        f.write(f'{i+1}\n{fm(d*i/15)} --> {fm(d*(i+1)/15)}\nThe fishermen waited on the quay for three days and the children\n\n')
parts, n = [], 0
for c in range(4):
    a, b = d * c / 4, d * (c + 1) / 4
    for l in range(8):
        open(f'l{n}.txt', 'w').write('every family kept a clock that counted the hours to high water')
        parts.append(f"drawtext=fontfile={here}/NotoSans-Regular.ttf:textfile={here}/l{n}.txt:expansion=none:fontsize=32:"
                     f"fontcolor=0xf1f1f1:x=90:y={60+l*44}:enable='between(t\\,{a:.3f}\\,{b:.3f})'")
        n += 1
open('graph.txt', 'w').write("[0:v]format=yuv420p," + ",".join(parts) + f",subtitles=filename={here}/s.vtt:fontsdir={here}:"
                             "force_style='FontName=Noto Sans,FontSize=15,BorderStyle=3,Outline=2,Shadow=0,MarginV=14,Alignment=2'[v]")
EOF
echo "narration: $D s"
for S in 1280x720 1080x1920; do
  /usr/bin/time -f "video $S: %e s wall, %U s user CPU" ffmpeg -hide_banner -nostdin -y -loglevel error \
    -f lavfi -i "color=c=0x14213d:s=$S:r=2:d=$D" -i n.wav -filter_complex "$(cat graph.txt)" -map "[v]" -map 1:a \
    -c:v libx264 -preset veryfast -tune stillimage -crf 28 -pix_fmt yuv420p -r 2 -c:a aac -b:a 96k -ac 1 \
    -movflags +faststart -t "$D" "v$S.mp4"
done
python3 - "$B" <<'EOF'
import re, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
text = ((sys.argv[1] + ' ') * 30)[:5000]
pieces, cur = [], ''
for s in re.split(r'(?<=[.!?])\s+', text):
    if len(cur) + len(s) + 1 <= 2000: cur = (cur + ' ' + s).strip()
    else: pieces.append(cur); cur = s
pieces.append(cur)
start = time.time()
def say(item):
    i, p = item
    with open(f'p{i}.wav', 'wb') as f:
        subprocess.run(['espeak-ng', '-v', 'en-us', '-s', '175', '--stdout', '--stdin', '-b', '1'], input=p.encode(), stdout=f, check=True)
with ThreadPoolExecutor(2) as ex: list(ex.map(say, enumerate(pieces)))
synth = time.time() - start
open('list.txt', 'w').write(''.join(f"file 'p{i}.wav'\n" for i in range(len(pieces))))
subprocess.run(['ffmpeg', '-hide_banner', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', 'list.txt',
                '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k', 'long.mp3'], check=True)
total = time.time() - start
d = float(subprocess.run(['ffprobe', '-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', 'long.mp3'],
                         capture_output=True, text=True).stdout)
print(f"narration of {len(text)} characters ({len(pieces)} pieces): synthesis {synth:.2f} s, with the MP3 {total:.2f} s, "
      f"{d:.1f} s of speech: {d/total:.0f}x real time")
EOF
