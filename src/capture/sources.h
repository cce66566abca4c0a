#pragma once
// Internal constructors behind open_source(); one file per kind of source.
#include <map>
#include <memory>
#include <string>

#include "capture/frame_source.h"

namespace camscope::capture {

std::unique_ptr<FrameSource> make_image_source(const std::string& path, const DecodeOptions& decode);
std::unique_ptr<FrameSource> make_folder_source(const std::string& dir, const DecodeOptions& decode);
std::unique_ptr<FrameSource> make_video_source(const std::string& path, const SourceOptions& opt);
// device: a V4L2 path such as /dev/video0; size "WxH" and format (e.g. "mjpeg", "yuyv422")
// may be empty for the device's defaults.
std::unique_ptr<FrameSource> make_webcam_source(const std::string& uri, const std::string& device,
                                                const std::string& size, const std::string& format,
                                                const SourceOptions& opt);
// Any libavdevice/libavformat live input (the webcam's machinery with another input format,
// e.g. "lavfi" generators): frames are dropped when stale; a watchdog reconnects on loss.
std::unique_ptr<FrameSource> make_live_source(const std::string& uri,
                                              const std::string& input_format,
                                              const std::string& url,
                                              const std::map<std::string, std::string>& options,
                                              const SourceOptions& opt);

}  // namespace camscope::capture
