package io.dcls4j.cli;

import io.dcls4j.Device;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A {@code --device} value: cpu, cuda or cuda:N ({@link Device#parse}), for every command that takes one. */
public final class DeviceConverter implements ITypeConverter<Device> {
    @Override
    public Device convert(String value) {
        try {
            return Device.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
