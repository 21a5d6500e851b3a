"""Mission exports: QGroundControl .plan, MAVLink WPL, KML, DJI WPML (.kmz), GeoJSON."""
