# Faithful copy of the seed notebook's sacct parsing, kept as the benchmark baseline (bugs included).
#
# Source: /work/shared/seed/000_e516199997c5245f.txt (the seed project's notebook export), lines 2147-2382:
# ``unit_converter``, ``convert_into_seconds``, ``format_slurm_sacct`` (fixed-width sacct text file -> dict of rows),
# ``sacct_metric_formatting`` and ``parse_sacct_dict`` (one row -> metrics, metadata). Only the notebook's code-cell
# fences were removed; the code is unchanged, so it keeps the seed's behaviour, e.g. ``Unknown``/``UNLIMITED``
# values raise KeyError in ``unit_converter``, counts stay strings, the timestamp uses the local time zone.
# This file is excluded from ruff (pyproject ``extend-exclude``); do not "fix" it.
# fmt: off
from datetime import timedelta

def unit_converter(
    value: str,
    bytes: bool
) -> any:
    units = {
        'K': {
            'normal': 1000,
            'bytes': 1024
        },
        'M': {
            'normal': 1000**2,
            'bytes': 1024**2
        },
        'G': {
            'normal': 1000**3,
            'bytes': 1024**3
        },
        'T': {
            'normal': 1000**4,
            'bytes': 1024**4
        },
        'P': {
            'normal': 1000**5,
            'bytes': 1024**5
        }
    }
    
    converted_value = 0
    unit_letter = ''

    character_index = 0
    for character in value:
        if character.isalpha():
            unit_letter = character
            break
        character_index += 1
    
    if 0 < len(unit_letter):
        if not bytes:
            converted_value = int(float(value[:character_index]) * units[unit_letter]['normal'])
        else:
            converted_value = int(float(value[:character_index]) * units[unit_letter]['bytes'])
    else:
        converted_value = value
    return converted_value

def convert_into_seconds(
    given_time: str
) -> int:
    days = 0
    hours = 0
    minutes = 0
    seconds = 0
    milliseconds = 0

    day_split = given_time.split('-')
    if '-' in given_time:
        days = int(day_split[0])

    millisecond_split = day_split[-1].split('.')
    if '.' in given_time:
        milliseconds = int(millisecond_split[1])
    
    hour_minute_second_split = millisecond_split[0].split(':')

    if len(hour_minute_second_split) == 3:
        hours = int(hour_minute_second_split[0])
        minutes = int(hour_minute_second_split[1])
        seconds = int(hour_minute_second_split[2])
    else:
        minutes = int(hour_minute_second_split[0])
        seconds = int(hour_minute_second_split[1])
    
    result = timedelta(
        days = days,
        hours = hours,
        minutes = minutes,
        seconds = seconds,
        milliseconds = milliseconds
    ).total_seconds()
    return result
from datetime import datetime

def format_slurm_sacct(
    file_path: str
) -> any: 
    sacct_text = None
    with open(file_path, 'r') as f:
        sacct_text = f.readlines()

    values_dict = {}
    if not sacct_text is None:
        header = sacct_text[0].split(' ')[:-1]
        columns = [s for s in header if s != '']

        spaces = sacct_text[1].split(' ')[:-1]
        space_sizes = []
        for space in spaces:
            space_sizes.append(len(space))

        rows = sacct_text[2:]
        if 1 < len(sacct_text):
            for i in range(1,len(rows) + 1):
                values_dict[str(i)] = {} 
                for column in columns:
                    values_dict[str(i)][column] = ''
            i = 1
            for row in rows:
                start = 0
                end = 0
                j = 0
                
                for size in space_sizes:
                    end += size
                    formatted_value = [s for s in row[start:end].split(' ') if s != '']
                    column_value = None
                    if 0 < len(formatted_value):
                        column_value = formatted_value[0] 
                    column = columns[j]
                    values_dict[str(i)][column] = column_value
                    start = end
                    end += 1
                    j += 1
                i += 1
    return values_dict

def sacct_metric_formatting(
    metric: str
) -> any:
    formatted_name = ''
    first = True
    index = -1
    for character in metric:
        index += 1
        if character.isupper():
            if first:
                first = False
                formatted_name += character
                continue
            if index + 1 < len(metric): 
                if metric[index - 1].islower():
                    formatted_name += '-' + character
                    continue
                if metric[index - 1].isupper() and metric[index + 1].islower():
                    formatted_name += '-' + character
                    continue
        formatted_name += character 
    return formatted_name

def parse_sacct_dict(
    sacct_data:any
):
    formatted_data = {}

    metric_units = {
        'ave-cpu': 'seconds',
        'ave-cpu-freq': 'khz',
        'ave-disk-read': 'bytes',
        'ave-disk-write': 'bytes',
        'timelimit': 'seconds',
        'elapsed': 'seconds',
        'planned': 'seconds',
        'planned-cpu': 'seconds',
        'cpu-time': 'seconds',
        'total-cpu': 'seconds',
        'submit': 'time',
        'start': 'time',
        'end': 'time'
    }
   
    for key,value in sacct_data.items():
        spaced_key = sacct_metric_formatting(
            metric = key
        )
        formatted_key = spaced_key.lower()
        
        if formatted_key in metric_units:
            formatted_key += '-' + metric_units[formatted_key]
        
        formatted_data[formatted_key] = value

    ignore = [
        'account'
    ]
    
    metadata = [
        'job-name',
        'job-id',
        'partition',
        'state'
    ]
    
    parsed_metrics = {}
    parsed_metadata = {}
    
    for key in formatted_data.keys():
        key_value = formatted_data[key]

        if key_value is None:
            continue

        if key in ignore:
            continue

        if key in metadata:
            if key == 'job-id':
                key_value = key_value.split('.')[0]
            parsed_metadata[key] = key_value
            continue
        
        if ':' in key_value:
            if 'T' in key_value:
                format = datetime.strptime(key_value, '%Y-%m-%dT%H:%M:%S')
                key_value = round(format.timestamp())
            else:
                key_value = convert_into_seconds(
                    given_time = key_value
                )
        else:
            if 'bytes' in key_value:
                key_value = unit_converter(
                    value = key_value,
                    bytes = True
                )
            else:
                key_value = unit_converter(
                    value = key_value,
                    bytes = False
                )
        parsed_metrics[key] = key_value
    return parsed_metrics, parsed_metadata
